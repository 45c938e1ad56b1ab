/** The name of a gateway started without `name:` (every single-gateway scenario). */
export const DEFAULT_GATEWAY = 'gateway';
