// libpq, PostgreSQL's C client (Debian's libpq-dev): synchronous, with COPY built in.
#include <postgresql/libpq-fe.h>
