# Declarative helpers: every folder states its targets with these.
#
#   updraft_library(name [PORTABLE] SRCS ... DEPS ...)  -> target updraft_<name>, alias updraft::<name>
#   updraft_test(file_test.cpp DEPS ...)                 -> gtest executable registered with CTest
#   updraft_executable(name SRCS ... DEPS ...)
#   updraft_fuzz(name SRCS ... DEPS ... INSTRUMENT lib ...)
#       with UPDRAFT_FUZZ: a libFuzzer binary `name`, the INSTRUMENT libraries built
#       with coverage and sanitizers; otherwise `name_replay`, which replays the seed
#       corpus corpus/<name>/ beside the source. Either way CTest runs the corpus
#       as `name_corpus`.
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
  # SERIAL: the tests time the server, so they run with no other test beside them
  # (ctest -j would lend their CPU to a neighbour and the figures to its load).
  cmake_parse_arguments(ARG "SERIAL" "" "DEPS" ${ARGN})
  get_filename_component(test_name ${file} NAME_WE)
  add_executable(${test_name} ${file})
  target_compile_options(${test_name} PRIVATE ${UPDRAFT_WARNINGS})
  target_compile_definitions(${test_name} PRIVATE
    UPDRAFT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # Includes are rooted at the repository, as in the code under test (docs/style.md).
  target_include_directories(${test_name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${test_name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${test_name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900 RUN_SERIAL ${serial})
endfunction()

function(updraft_executable name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${UPDRAFT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

function(updraft_fuzz name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;INSTRUMENT" ${ARGN})
  set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name})
  if(UPDRAFT_FUZZ)
    # libFuzzer steers by coverage of the code under test, so the libraries the
    # target reaches are instrumented too; their users link the sanitizer runtimes.
    set(sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all)
    foreach(lib ${ARG_INSTRUMENT})
      get_property(done TARGET ${lib} PROPERTY UPDRAFT_FUZZ_INSTRUMENTED)
      if(NOT done)
        target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link ${sanitizers})
        target_link_options(${lib} INTERFACE ${sanitizers})
        set_property(TARGET ${lib} PROPERTY UPDRAFT_FUZZ_INSTRUMENTED TRUE)
      endif()
    endforeach()
    updraft_executable(${name} SRCS ${ARG_SRCS} DEPS ${ARG_DEPS})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${sanitizers})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    add_test(NAME ${name}_corpus COMMAND ${name} -runs=0 ${corpus})
  else()
    updraft_executable(${name}_replay SRCS ${ARG_SRCS} replay_main.cpp DEPS ${ARG_DEPS})
    add_test(NAME ${name}_corpus COMMAND ${name}_replay ${corpus})
  endif()
endfunction()
