export default {
  files: ['__test__/**/*.spec.ts'],
  extensions: { ts: 'commonjs' },
  nodeArguments: ['--import=tsx'],
  timeout: '3m',
  // The native addon and the child processes some suites spawn behave better in child processes
  // than in worker threads.
  workerThreads: false,
  concurrency: 2,
}
