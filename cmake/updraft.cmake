# Declarative helpers: every folder states its targets with these.
#
#   updraft_library(name [PORTABLE] SRCS ... DEPS ...)  -> target updraft_<name>, alias updraft::<name>
#   updraft_test(file_test.cpp DEPS ...)                 -> gtest executable registered with CTest
#   updraft_executable(name SRCS ... DEPS ...)
#
# PORTABLE libraries compile with the freestanding rules (no exceptions, no RTTI) on
# every platform, so a slip shows up on the host build already, not only on the MCU.

set(UPDRAFT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Werror)
set(UPDRAFT_PORTABLE_FLAGS -fno-exceptions -fno-rtti)

function(updraft_library name)
  cmake_parse_arguments(ARG "PORTABLE;HEADER_ONLY" "" "SRCS;DEPS" ${ARGN})
  if(UPDRAFT_PORTABLE_ONLY AND NOT ARG_PORTABLE)
    return()
  endif()
  if(ARG_SRCS)
    add_library(updraft_${name} STATIC ${ARG_SRCS})
    target_include_directories(updraft_${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_compile_options(updraft_${name} PRIVATE ${UPDRAFT_WARNINGS})
    if(ARG_PORTABLE)
      target_compile_options(updraft_${name} PRIVATE ${UPDRAFT_PORTABLE_FLAGS})
    endif()
    target_link_libraries(updraft_${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(updraft_${name} INTERFACE)
    target_include_directories(updraft_${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(updraft_${name} INTERFACE ${ARG_DEPS})
  endif()
  add_library(updraft::${name} ALIAS updraft_${name})
endfunction()

function(updraft_test file)
  if(UPDRAFT_PORTABLE_ONLY)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  get_filename_component(test_name ${file} NAME_WE)
  add_executable(${test_name} ${file})
  target_compile_options(${test_name} PRIVATE ${UPDRAFT_WARNINGS})
  target_compile_definitions(${test_name} PRIVATE
    UPDRAFT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    UPDRAFT_CORPUS_DIR="${PROJECT_SOURCE_DIR}/../shared/corpus/public")
  # Includes are rooted at the repository, as in the code under test (STYLE.md).
  target_include_directories(${test_name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${test_name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${test_name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
endfunction()

function(updraft_executable name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${UPDRAFT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()
