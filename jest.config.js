/** Jest runs the TypeScript sources as native ESM (Nest 12 is ESM-only). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/lib/**/*.spec.ts'],
  moduleNameMapper: {
    '^nestjs-grpc-pool$': '<rootDir>/lib/index.ts',
    '^nestjs-grpc-pool/health$': '<rootDir>/lib/health/index.ts',
    '^nestjs-grpc-pool/otel$': '<rootDir>/lib/otel/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30000,
  maxWorkers: 2,
};
