# Shared part of the cross toolchain files: Debian's cross compilers for
# KVS_TARGET_TRIPLET, and the target's OpenSSL from the private sysroot that
# deps/sysroot.mjs unpacks (KVS_TARGET_SYSROOT, passed with -D or in the environment).
# The C library, libstdc++ and libgcc are the cross compilers' own (/usr/<triplet>).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR "${KVS_TARGET_PROCESSOR}")
set(CMAKE_C_COMPILER "${KVS_TARGET_TRIPLET}-gcc")
set(CMAKE_CXX_COMPILER "${KVS_TARGET_TRIPLET}-g++")
set(CMAKE_LIBRARY_ARCHITECTURE "${KVS_TARGET_TRIPLET}")

if(NOT KVS_TARGET_SYSROOT AND DEFINED ENV{KVS_TARGET_SYSROOT})
  set(KVS_TARGET_SYSROOT "$ENV{KVS_TARGET_SYSROOT}")
endif()
if(NOT KVS_TARGET_SYSROOT OR NOT EXISTS "${KVS_TARGET_SYSROOT}/usr/include/openssl/ssl.h")
  message(FATAL_ERROR "KVS_TARGET_SYSROOT must point at the ${KVS_TARGET_TRIPLET} OpenSSL "
    "sysroot made by deps/sysroot.mjs (got '${KVS_TARGET_SYSROOT}')")
endif()
# try_compile projects read this file again: hand them the same values.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES
  KVS_TARGET_TRIPLET KVS_TARGET_PROCESSOR KVS_TARGET_SYSROOT)

# Libraries, headers and CMake packages come from the target folders only; programs
# (pkg-config, the compilers) from the host.
set(CMAKE_FIND_ROOT_PATH "${KVS_TARGET_SYSROOT}" "/usr/${KVS_TARGET_TRIPLET}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# FindOpenSSL: the sysroot's static archives. Without PKG_CONFIG_LIBDIR it would take the
# host's libcrypto.a through pkg-config.
set(OPENSSL_ROOT_DIR "${KVS_TARGET_SYSROOT}/usr")
set(OPENSSL_USE_STATIC_LIBS TRUE)
set(ENV{PKG_CONFIG_LIBDIR} "${KVS_TARGET_SYSROOT}/usr/lib/${KVS_TARGET_TRIPLET}/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${KVS_TARGET_SYSROOT}")
# Debian keeps opensslconf.h and configuration.h in the multiarch include folder, which a
# cross compiler does not search by itself. (Not in CMAKE_<LANG>_FLAGS_INIT: a project's
# -DCMAKE_C_FLAGS would replace it.)
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES "${KVS_TARGET_SYSROOT}/usr/include/${KVS_TARGET_TRIPLET}")
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${KVS_TARGET_SYSROOT}/usr/include/${KVS_TARGET_TRIPLET}")
