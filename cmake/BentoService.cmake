# bento_add_service(NAME SOURCES... [LIBS ...]): an executable serving a bento::Service
# (include/bento/service.h), with the same serve flags as `bento serve`. It links
# libbento (bento::bento), so it needs nothing else of bento's dependencies.
#
# Used by bento's own examples, and by a user's project through find_package(bento).
function(bento_add_service name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE bento::bento ${ARG_LIBS})
endfunction()
