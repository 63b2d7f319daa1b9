# Install rules: `cmake --install build --prefix DIR` (or `make install PREFIX=DIR`) writes a
# relocatable tree, which runs wherever it is copied:
#
#   bin/bento                  the CLI
#   lib/libbento.so*           every layer in one library (bento::bento)
#   lib/libbento_imgcodecs.so  OpenCV's decoders, a plugin libbento loads on first use
#   lib/libonnxruntime*.so*    ONNX Runtime, which Debian does not package
#   libexec/bento/<example>    the examples' service executables
#   share/bento/swagger-ui/    the Swagger UI assets served at /static_content/
#   include/bento/             the public API, for services built out of tree
#   lib/cmake/bento/           the package config: bento::bento and bento_add_service()
#
# Binaries find their libraries through $ORIGIN run paths, and libbento finds share/bento/
# relative to its own file (base/fs.h, InstallRoot), so the build tree has the same shape:
# build/bin, build/lib and build/share/bento. Everything else bento links is a Debian
# package (README lists them); `bento containerize` copies those into its images.
include(CMakePackageConfigHelpers)

install(TARGETS bento RUNTIME DESTINATION bin)
install(TARGETS bento_shared EXPORT bentoTargets LIBRARY DESTINATION lib)
install(TARGETS bento_imgcodecs LIBRARY DESTINATION lib)
install(EXPORT bentoTargets NAMESPACE bento:: DESTINATION lib/cmake/bento)
configure_package_config_file(cmake/bentoConfig.cmake.in
  ${CMAKE_BINARY_DIR}/bentoConfig.cmake INSTALL_DESTINATION lib/cmake/bento)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/bentoConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/bentoConfig.cmake ${CMAKE_BINARY_DIR}/bentoConfigVersion.cmake
  cmake/BentoService.cmake DESTINATION lib/cmake/bento)
install(DIRECTORY include/bento DESTINATION include)

file(GLOB ort_libs "${ONNXRUNTIME_LIBDIR}/libonnxruntime*.so*")
install(FILES ${ort_libs} DESTINATION lib)

# Swagger UI: the two files its page loads, and the package's licence.
set(swagger_dir "${CMAKE_SOURCE_DIR}/.deps/npm/node_modules/swagger-ui-dist")
install(FILES ${swagger_dir}/swagger-ui-bundle.js ${swagger_dir}/swagger-ui.css
  ${swagger_dir}/LICENSE ${swagger_dir}/NOTICE DESTINATION share/bento/swagger-ui)
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/share/bento)
file(CREATE_LINK ${swagger_dir} ${CMAKE_BINARY_DIR}/share/bento/swagger-ui SYMBOLIC)

# Release binaries are stripped; their debug info is kept in .debug/ beside each one, where
# gdb finds it through the .gnu_debuglink section. Sanitizer builds are not for shipping.
if(CMAKE_BUILD_TYPE MATCHES "^Rel" AND BENTO_SANITIZE STREQUAL "")
  install(SCRIPT cmake/SplitDebugInfo.cmake)
endif()
