// Workflow entry point the worker bundles: every workflow the injector runs is exported from here.
export * from './ping';
export * from './agent-injection';
export * from './swarm-injection';
export * from './agent-leases';
export * from './program-holder';
export * from './resolve-targets';
