import type {
  GrpcPoolOptions,
  PoolProtoOptions,
} from '../interfaces/grpc-pool-options.interface.js';
import type { OptionChecker } from './option-checker.js';

/** The proto options for `getService()`, or `undefined` when the pool has none. */
export function resolveProto(
  check: OptionChecker,
  options: GrpcPoolOptions,
): PoolProtoOptions | undefined {
  const { package: pkg, protoPath, loader, protoLoader, packageDefinition } = options;
  if (pkg === undefined) {
    for (const [key, value] of Object.entries({
      protoPath,
      loader,
      protoLoader,
      packageDefinition,
    })) {
      if (value !== undefined) {
        check.report(
          key,
          value,
          'to come with "package" (the proto package getService() looks services up in)',
        );
      }
    }
    return undefined;
  }
  const names = (value: unknown) =>
    (Array.isArray(value) ? value : [value]).every(
      (item) => typeof item === 'string' && item !== '',
    );
  if (!names(pkg)) {
    check.report('package', pkg, 'a proto package name or a list of them, e.g. "hero"');
  }
  if (protoPath === undefined ? packageDefinition === undefined : !names(protoPath)) {
    check.report(
      'protoPath',
      protoPath,
      'the path of a .proto file (or a list of paths), or a packageDefinition instead',
    );
  }
  if (protoLoader !== undefined && (typeof protoLoader !== 'string' || protoLoader === '')) {
    check.report('protoLoader', protoLoader, 'a module name such as "@grpc/proto-loader"');
  }
  check.record('loader', loader);
  return Object.freeze({ package: pkg, protoPath, loader, protoLoader, packageDefinition });
}
