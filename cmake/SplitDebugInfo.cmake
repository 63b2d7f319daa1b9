# Runs at install time, after every other rule: moves the debug info of bento's own
# binaries (bin/, lib/libbento.so.*, lib/libbento_imgcodecs.so, libexec/bento/) into
# .debug/<name>.debug beside each, strips them, and links each to its debug file
# (.gnu_debuglink).
set(root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
file(GLOB binaries "${root}/bin/bento" "${root}/lib/libbento.so.*.*.*"
  "${root}/lib/libbento_imgcodecs.so" "${root}/libexec/bento/*")
foreach(binary ${binaries})
  if(IS_SYMLINK "${binary}" OR IS_DIRECTORY "${binary}")
    continue()
  endif()
  get_filename_component(dir "${binary}" DIRECTORY)
  get_filename_component(name "${binary}" NAME)
  file(MAKE_DIRECTORY "${dir}/.debug")
  set(debug "${dir}/.debug/${name}.debug")
  foreach(step "--only-keep-debug;${binary};${debug}"
               "--strip-debug;--strip-unneeded;${binary}"
               "--add-gnu-debuglink=${debug};${binary}")
    execute_process(COMMAND objcopy ${step} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "objcopy ${step} failed")
    endif()
  endforeach()
  message(STATUS "Stripped: ${binary} (debug info: ${debug})")
endforeach()
