/* duration.h: Go's time.Duration syntax ("72h", "1m30s", "500ms"), parsed and
 * printed exactly as Go's ParseDuration and Duration.String do, because
 * pgofetch takes datadog-pgo's flags and prints their defaults the same way. */
#ifndef PGOFETCH_DURATION_H
#define PGOFETCH_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into nanoseconds. Returns 0, or -1 when s is not a Go duration or
 * overflows int64 nanoseconds. */
int pf_duration_parse(const char *s, int64_t *ns);

/* Writes Go's Duration.String() of ns into out (32 bytes are always enough). */
void pf_duration_format(int64_t ns, char *out, size_t outsz);

#endif
