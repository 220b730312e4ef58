// Runs in every test file before its tests: keeps the Temporal SDK's own logging to warnings and errors.
import { createLogger } from '../../src/shared/logger';
import { installSdkLogging } from '../../src/temporal/sdk-logging';

installSdkLogging(createLogger({ level: 'warn', component: 'temporal-sdk' }), 'warn');
