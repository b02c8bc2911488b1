# Warnings.cmake — one interface target with the project's warning flags (warnings are errors).
add_library(vllm_mem_warnings INTERFACE)
target_compile_options(vllm_mem_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
if(VLLM_MEM_WERROR)
  target_compile_options(vllm_mem_warnings INTERFACE -Werror)
endif()
if(VLLM_MEM_SANITIZE)
  add_compile_options(-fsanitize=${VLLM_MEM_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${VLLM_MEM_SANITIZE})
endif()
