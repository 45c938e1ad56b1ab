import type { Command } from '@commander-js/extra-typings';

// Placeholder until the owning part registers its commands here.
export function registerScenarioCommands(_program: Command): void {}
