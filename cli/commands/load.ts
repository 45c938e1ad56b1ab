import type { Command } from '@commander-js/extra-typings';

// Placeholder until the owning part registers its commands here.
export function registerLoadCommands(_program: Command): void {}
