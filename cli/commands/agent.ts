import type { Command } from '@commander-js/extra-typings';

// Placeholder until the owning part registers its commands here.
export function registerAgentCommands(_program: Command): void {}
