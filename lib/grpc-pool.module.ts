import { Module } from '@nestjs/common';
import { ConfigurableModuleClass } from './grpc-pool-module-definition.js';

/**
 * A pool of live gRPC connections to one backend.
 *
 * @example
 * GrpcPoolModule.forRoot({ url: 'localhost:50051', size: 8 })
 * GrpcPoolModule.forRootAsync({
 *   name: 'billing',
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ url: config.getOrThrow('BILLING_URL') }),
 * })
 */
@Module({})
export class GrpcPoolModule extends ConfigurableModuleClass {}
