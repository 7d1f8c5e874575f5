# Installing actlab for use from other projects, and its Debian package.
#
#   cmake --install BUILD --prefix PREFIX   puts into PREFIX:
#     include/actlab/*.hpp                  the public headers (standard library only), version.hpp
#     lib/libactlab.so.0.1, libactlab.a     the shared and the static library
#     lib/cmake/actlab/                     find_package(actlab): actlab::actlab (shared),
#                                           actlab::actlab_static (needs the -dev packages of its
#                                           dependencies, found by the config when present)
#     lib/pkgconfig/actlab.pc               pkg-config --cflags --libs actlab
#     bin/actlab                            the command-line tool
#     share/doc/actlab/                     README, CHANGELOG, docs/*.md, the examples' sources
#   cpack -G DEB --config BUILD/CPackConfig.cmake   builds actlab_VERSION_ARCH.deb (prefix /usr).
#
# Also here: the `docs` target (Doxygen, when installed) and the tests that check all of this
# (scripts/check_install.sh, tools/check_docs.sh).
#
# Off by default when actlab is a subproject (add_subdirectory): then it only builds what the parent links.
option(ACTLAB_INSTALL "The shared library, install rules, the Debian package and their tests" ${PROJECT_IS_TOP_LEVEL})
if(NOT ACTLAB_INSTALL)
  return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# --- The shared library: the static archive's objects (compiled once, position independent), whole.
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/generated/actlab_shared.cpp
  CONTENT "// libactlab.so is made of the whole of libactlab.a (see cmake/ActlabInstall.cmake).\n")
add_library(actlab_shared SHARED ${PROJECT_BINARY_DIR}/generated/actlab_shared.cpp)
target_link_libraries(actlab_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,actlab_lib>")
target_include_directories(actlab_shared PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated/include>)
# The public headers need C++20 (std::span, designated initializers): consumers get it from the target.
target_compile_features(actlab_shared PUBLIC cxx_std_20)
target_compile_features(actlab_lib PUBLIC cxx_std_20)
# The OpenMP flavour of OpenBLAS is found by its own folder, not by whichever libopenblas.so.0 the
# system's alternatives select (see shared/DEPENDENCIES.md); the installed files keep that path.
set_target_properties(actlab_shared PROPERTIES
  OUTPUT_NAME actlab EXPORT_NAME actlab
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
  INSTALL_RPATH "${ACTLAB_OPENBLAS_DIR}")
set_target_properties(actlab_lib PROPERTIES EXPORT_NAME actlab_static)
set_target_properties(actlab_blas PROPERTIES EXPORT_NAME openblas_openmp)
set_target_properties(actlab PROPERTIES INSTALL_RPATH "${ACTLAB_OPENBLAS_DIR}")

# --- Files.
set(ACTLAB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/actlab)
install(TARGETS actlab_shared EXPORT actlabTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS actlab_lib actlab_blas EXPORT actlabStaticTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS actlab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/actlab DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/generated/include/actlab/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/actlab)

install(EXPORT actlabTargets NAMESPACE actlab:: DESTINATION ${ACTLAB_CMAKE_DIR})
install(EXPORT actlabStaticTargets NAMESPACE actlab:: DESTINATION ${ACTLAB_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/actlabConfig.cmake.in
  ${PROJECT_BINARY_DIR}/generated/actlabConfig.cmake INSTALL_DESTINATION ${ACTLAB_CMAKE_DIR})
# 0.x releases break compatibility at every minor version.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/generated/actlabConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/generated/actlabConfig.cmake
  ${PROJECT_BINARY_DIR}/generated/actlabConfigVersion.cmake DESTINATION ${ACTLAB_CMAKE_DIR})

# pkg-config: relocatable (prefix found from the .pc file's own folder), so it also works from a
# package unpacked anywhere.
file(RELATIVE_PATH ACTLAB_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" ACTLAB_PC_TO_PREFIX "${ACTLAB_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/actlab.pc.in ${PROJECT_BINARY_DIR}/generated/actlab.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/generated/actlab.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

file(GLOB ACTLAB_DOC_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md ${ACTLAB_DOC_PAGES}
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# --- The Debian package.
set(CPACK_PACKAGE_NAME actlab)
set(CPACK_PACKAGE_VENDOR "actlab")
set(CPACK_PACKAGE_CONTACT "actlab maintainers <actlab@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "activation functions and batch normalization: C++20 library and command-line tool")
set(CPACK_PACKAGE_DESCRIPTION
  "actlab builds fully connected networks with any activation per layer, trains them with\nBatchNorm on real data, saves models that load into PyTorch, and runs activation kernels\nvectorized with run-time dispatch. This package holds the actlab program, the shared and\nstatic libraries, the headers, CMake and pkg-config files, and the docs.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://localhost/actlab")
# Runtime dependencies from the ELF files (dpkg-shlibdeps), plus the OpenMP flavour of OpenBLAS by
# name: dpkg-shlibdeps would accept any libopenblas0 flavour.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-openmp")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist")
# Only needed to link the static library (actlab::actlab_static, pkg-config --static).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
  "libopenblas-openmp-dev, libhwy-dev, libfmt-dev, nlohmann-json3-dev, zlib1g-dev, g++ (>= 4:12), pkg-config")
include(CPack)

# --- Reference docs from the headers (optional: Doxygen is not part of the build's dependencies).
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  add_custom_target(docs
    COMMAND sh -c "( cat docs/Doxyfile; echo 'OUTPUT_DIRECTORY = ${PROJECT_BINARY_DIR}/docs' ) | '${DOXYGEN_EXECUTABLE}' -"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: ${PROJECT_BINARY_DIR}/docs/html/index.html"
    VERBATIM)
endif()

# --- Tests.
if(ACTLAB_BUILD_TESTS)
  # Installs this build into a temporary prefix, builds and runs the examples and a consumer against
  # it with find_package and pkg-config, builds the .deb and runs actlab from the unpacked package.
  # Only for a plain Release build (what users get); scripts/check_install.sh without an argument
  # checks any tree by building it in Release first.
  if(CMAKE_BUILD_TYPE STREQUAL "Release" AND NOT CMAKE_CXX_FLAGS MATCHES "sanitize")
    add_test(NAME install_and_package COMMAND ${PROJECT_SOURCE_DIR}/scripts/check_install.sh ${PROJECT_BINARY_DIR})
    set_tests_properties(install_and_package PROPERTIES TIMEOUT 600 LABELS slow)
  endif()

  # docs/activations.md and docs/cli.md are generated from `actlab list --json` and `--help`.
  # Any python3 runs the generator (standard library only); scripts/setup.sh installs Debian's.
  find_program(ACTLAB_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
  find_program(ACTLAB_PYTHON3 NAMES python3)
  if(ACTLAB_PYTHON3)
    add_test(NAME docs_generated_up_to_date
      COMMAND ${PROJECT_SOURCE_DIR}/tools/check_docs.sh $<TARGET_FILE:actlab> ${ACTLAB_PYTHON3})
  else()
    message(WARNING "python3 not found: the test docs_generated_up_to_date is left out (scripts/setup.sh installs it)")
  endif()
endif()
