// Activities are plain async functions made by factories from injected dependencies (no globals, no I/O at import).
export { createInjectorActivities } from './injector-activities';
export type { InjectorActivityDeps, InjectorActivities } from './injector-activities';
export { createDockerActivities } from './docker-activities';
export type { DockerActivityDeps, DockerActivities } from './docker-activities';
export type { SnapshotResult } from './docker-activities';
export type { CompiledProgram } from './injector-activities';
