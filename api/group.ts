// The API group and version every Loupe resource lives in.
export const LOUPE_GROUP = 'loupe.dev';
export const LOUPE_VERSION = 'v1alpha1';
export const LOUPE_API_VERSION = `${LOUPE_GROUP}/${LOUPE_VERSION}`;
/** `kubectl get loupe` lists every Loupe resource. */
export const LOUPE_CATEGORY = 'loupe';
/** The namespace config/default installs the operator and the agents in. */
export const DEFAULT_LOUPE_NAMESPACE = 'loupe-system';
