import { createHash } from 'node:crypto';
import { createIdentity, type Seed } from '../agent-core/identity.js';
import { resourceGroupFor, type AmaMachine } from '../../fake-oms-endpoints/ama/machine.js';

function guidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The simulated Azure VM an AMA agent runs on, reproducible from (seed, index): its host name and
 * managed-identity principal come from agent-core's identity; the resource group follows the lab's
 * association convention (`omsgw-<workspace>`, fake-oms-endpoints/ama/machine.ts).
 */
export function amaMachineFor(seed: Seed, index: number, workspaceId: string, region: string, platform: 'linux' | 'windows'): AmaMachine {
  const id = createIdentity(platform, seed, index);
  return {
    subscriptionId: guidFrom(`subscription:${String(seed)}`),
    resourceGroupName: resourceGroupFor(workspaceId),
    name: id.hostname,
    location: region,
    vmId: guidFrom(`vm:${id.agentGuid}`),
    principalId: id.agentGuid,
    platform,
  };
}
