/** Process exit codes; scripts and the New Relic agent rely on them. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME_FAILURE = 1;
export const EXIT_USAGE = 2;
