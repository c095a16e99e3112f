# The dependency rules of docs/design.md, checked on every #include in the tree:
#  1. nothing under agent/ cli/ sim/ delta/ manifest/ crypto/ core/ includes server/;
#  2. portable code (core, crypto, manifest, delta/format, delta/patch, agent, minus
#     their host/ posix/ linux/ testing/ cortex_m/ folders and *_test.cpp files)
#     includes no host path, and only standard headers that neither allocate nor throw.
# Usage: cmake -DSOURCE_DIR=<tree> -P import_check.cmake   (fails listing each breach)
cmake_minimum_required(VERSION 3.25)

set(host_paths "^(server|net|cli|sim|console|tests|bench|fuzz|delta/diff)/|/(host|posix|linux|testing)/")
set(portable_std cstdint cstddef cstring array span type_traits utility limits bit algorithm
    string_view)

set(breaches "")
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR}
     ${SOURCE_DIR}/agent/*.h ${SOURCE_DIR}/agent/*.cpp ${SOURCE_DIR}/cli/*.h ${SOURCE_DIR}/cli/*.cpp
     ${SOURCE_DIR}/sim/*.h ${SOURCE_DIR}/sim/*.cpp ${SOURCE_DIR}/delta/*.h ${SOURCE_DIR}/delta/*.cpp
     ${SOURCE_DIR}/manifest/*.h ${SOURCE_DIR}/manifest/*.cpp ${SOURCE_DIR}/crypto/*.h
     ${SOURCE_DIR}/crypto/*.cpp ${SOURCE_DIR}/core/*.h ${SOURCE_DIR}/core/*.cpp)
foreach(file IN LISTS files)
  file(STRINGS ${SOURCE_DIR}/${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  set(portable FALSE)
  if(file MATCHES "^(core|crypto|manifest|delta/format|delta/patch|agent)/"
     AND NOT file MATCHES "/(host|posix|linux|testing|cortex_m)/"
     AND NOT file MATCHES "_test\\.cpp$")
    set(portable TRUE)
  endif()
  foreach(line IN LISTS includes)
    string(REGEX MATCH "[<\"]([^>\"]+)[>\"]" _ "${line}")
    set(target "${CMAKE_MATCH_1}")
    if(target MATCHES "^server/")
      list(APPEND breaches "${file}: includes ${target} (only server/ may)")
    elseif(portable AND line MATCHES "\"" AND target MATCHES "${host_paths}")
      list(APPEND breaches "${file}: portable code includes host path ${target}")
    elseif(portable AND line MATCHES "<" AND NOT target IN_LIST portable_std)
      list(APPEND breaches "${file}: portable code includes <${target}>, which may allocate or throw")
    endif()
  endforeach()
endforeach()

list(LENGTH files checked)
if(breaches)
  list(JOIN breaches "\n  " text)
  message(FATAL_ERROR "import check: ${checked} files, breaches:\n  ${text}")
endif()
message(STATUS "import check: ${checked} files follow the dependency rules")
