/* check_cmd.h: `pgofetch check`, does a profile still match the code? */
#ifndef PGOFETCH_CHECK_CMD_H
#define PGOFETCH_CHECK_CMD_H

/* Runs `pgofetch check [-json] [-fail-below PCT] [-go PATH] PROFILE
 * PKG_OR_BINARY` (argv[0] is "check"); returns the exit code. */
int pf_check_main(int argc, char **argv);

#endif
