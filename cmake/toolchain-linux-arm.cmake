# Cross-building for linux-arm (ARMv7-A, hard-float: Debian's armhf) with Debian's
# g++-arm-linux-gnueabihf. Its defaults are Debian's armhf baseline (armv7-a, VFPv3-D16,
# Thumb-2); OpenSSL picks its NEON code at run time where the CPU has NEON.
set(KVS_TARGET_TRIPLET arm-linux-gnueabihf)
set(KVS_TARGET_PROCESSOR armv7l)
include("${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake")
