# Warnings.cmake — one interface target with the project's warning flags (warnings are errors).
add_library(vllm_mem_warnings INTERFACE)
target_compile_options(vllm_mem_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
# GCC 12 at -O3 (the Release build of make bench) reports "'" + std::string as an overlapping
# memcpy (-Wrestrict), a false positive of that compiler's std::string inlining (none at -O2);
# it is kept on for every other compiler and build type.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13 AND
   CMAKE_BUILD_TYPE STREQUAL "Release")
  target_compile_options(vllm_mem_warnings INTERFACE -Wno-restrict)
endif()
if(VLLM_MEM_WERROR)
  target_compile_options(vllm_mem_warnings INTERFACE -Werror)
endif()
if(VLLM_MEM_SANITIZE)
  add_compile_options(-fsanitize=${VLLM_MEM_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${VLLM_MEM_SANITIZE})
endif()
