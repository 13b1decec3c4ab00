/** Reads an environment variable by name; injected wherever env references in keys are resolved. */
export type EnvironmentReader = (name: string) => string | undefined;
