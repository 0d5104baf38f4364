#include "common/release_memory.h"

#include <cstdlib>  // defines __GLIBC__ under glibc, which the check below needs

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace kvs {

void ReleaseFreedMemory() {
#if defined(__GLIBC__)
  // The result says whether anything was released; either way there is nothing to do.
  (void)malloc_trim(0);
#endif
}

}  // namespace kvs
