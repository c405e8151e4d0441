/**
 * Checks of the `tenants` section that span entries (the schema checks each entry alone): tenant names
 * are unique. Pure.
 */
import { ConfigError } from './errors.js';

/** @throws ConfigError CONFIG_INVALID naming `tenants.<i>.name` of the second tenant with a name */
export function checkTenants(tenants: readonly { readonly name: string }[], file?: string): void {
  const seen = new Map<string, number>();
  tenants.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) {
      throw new ConfigError('CONFIG_INVALID', `tenants.${i}.name`, `tenant "${t.name}" is already defined by tenants.${first}`, file);
    }
    seen.set(t.name, i);
  });
}
