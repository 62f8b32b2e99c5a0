/** The shapes of names an inventory may use: hosts, environments, interfaces, local users. */

export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
export const HOST_NAME_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 253 characters";

export const ENVIRONMENT = /^[A-Za-z0-9_.-]+$/;
export const ENVIRONMENT_RULE = "letters, digits, '_', '.' and '-'";

/** Linux interface names (IFNAMSIZ - 1 = 15 characters); no `/`, `:` or whitespace. */
export const INTERFACE_NAME = /^[A-Za-z0-9_.@-]{1,15}$/;
export const INTERFACE_NAME_RULE = "1 to 15 letters, digits, '_', '.', '@' or '-'";

export const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}\$?$/i;
export const USER_NAME_RULE = "a letter or '_', then up to 31 letters, digits, '_' or '-' (and an optional final '$')";

export const MAX_UID = 4294967294;

export function isUid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_UID;
}
