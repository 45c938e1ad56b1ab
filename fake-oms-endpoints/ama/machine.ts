/** A simulated Azure VM as the instance metadata service describes it (`compute` section). */
export interface AmaMachine {
  subscriptionId: string;
  resourceGroupName: string;
  /** VM name. */
  name: string;
  /** Azure region, e.g. eastus. */
  location: string;
  vmId: string;
  /** Object id of the VM's system-assigned managed identity (the `oid` of its tokens). */
  principalId: string;
  /** `linux` or `windows`: the handler's `platform` query parameter. */
  platform: 'linux' | 'windows';
}

export function machineResourceId(m: Pick<AmaMachine, 'subscriptionId' | 'resourceGroupName' | 'name'>): string {
  return `/subscriptions/${m.subscriptionId}/resourceGroups/${m.resourceGroupName}/providers/Microsoft.Compute/virtualMachines/${m.name}`;
}

/**
 * Lab convention (not Azure's): a machine's data collection rule is associated with workspace <ws>
 * when its resource group is named `omsgw-<ws>`. The real service keeps associations as ARM resources.
 */
export const RESOURCE_GROUP_PREFIX = 'omsgw-';
export function resourceGroupFor(workspaceId: string): string {
  return `${RESOURCE_GROUP_PREFIX}${workspaceId.toLowerCase()}`;
}
export function workspaceOfResourceGroup(rg: string): string | undefined {
  return rg.toLowerCase().startsWith(RESOURCE_GROUP_PREFIX) ? rg.slice(RESOURCE_GROUP_PREFIX.length).toLowerCase() : undefined;
}
