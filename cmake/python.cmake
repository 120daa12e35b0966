# SPDX-License-Identifier: Apache-2.0
# python.cmake - optional embedded CPython for workloads.json module/class
# entries (worker/pyhost.c). On when pkg-config finds python3-embed (Debian:
# python3-dev); deliberately not FindPython3, which may pick another
# interpreter from PATH. Included from the top-level CMakeLists.txt after the
# tcworker target and cmake/deploy.cmake.
#
# By default the Python host is a module of its own, <libdir>/tcworker/
# pyhost.so (build tree: build/lib/tcworker/pyhost.so), which tcworker loads
# with dlopen only when a workloads file has a module/class entry: tcworker
# itself does not link libpython. TCW_PYHOST_LINKED=ON (the default of
# TCW_STATIC_PLUGINS builds, for enclaves) links the host and libpython into
# tcworker instead, so no module file is involved.

option(TCW_PYTHON
  "Embed CPython for Python workloads when pkg-config finds python3-embed" ON)
option(TCW_PYHOST_LINKED
  "Link the Python host into tcworker instead of building the pyhost.so module"
  ${TCW_STATIC_PLUGINS})

if(TCW_PYTHON)
  pkg_check_modules(PYEMBED QUIET IMPORTED_TARGET python3-embed)
endif()

if(PYEMBED_FOUND)
  # The worker finds the avalon_worker package in <bin>/../share/tcworker/
  # python: installed there, and linked there in the build tree.
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/share/tcworker)
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/python
       ${CMAKE_BINARY_DIR}/share/tcworker/python SYMBOLIC)
  install(DIRECTORY python/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tcworker/python
          PATTERN __pycache__ EXCLUDE PATTERN "*.pyc" EXCLUDE)
  install(FILES workloads-python.json DESTINATION ${CMAKE_INSTALL_DATADIR}/tcworker)
  if(TCW_PYHOST_LINKED)
    target_sources(tcworker PRIVATE ${CMAKE_SOURCE_DIR}/worker/pyhost.c)
    # TCW_PYTHON_HOME pins the interpreter's prefix (standard library) to
    # the one the worker links against.
    target_compile_definitions(tcworker PRIVATE
      TCW_PYTHON_HOME="${PYEMBED_PREFIX}")
    target_link_libraries(tcworker PRIVATE PkgConfig::PYEMBED)
    message(STATUS "tcworker: Python workloads: yes (${PYEMBED_VERSION}, linked into tcworker)")
  else()
    # The module's folder relative to the binary's: the installed layout,
    # mirrored in the build tree.
    file(RELATIVE_PATH TCW_PYHOST_REL "${CMAKE_INSTALL_FULL_BINDIR}" "${TCW_PLUGINDIR}")
    get_filename_component(TCW_PYHOST_BUILD_DIR
      "${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/${TCW_PYHOST_REL}" ABSOLUTE)
    string(FIND "${TCW_PYHOST_BUILD_DIR}/" "${CMAKE_BINARY_DIR}/" inside)
    if(NOT inside EQUAL 0)
      message(FATAL_ERROR "tcworker: the plugin folder ${TCW_PLUGINDIR} is not below the "
        "prefix of ${CMAKE_INSTALL_FULL_BINDIR}, so the build tree cannot mirror where "
        "tcworker finds pyhost.so; use a libdir below the prefix or -DTCW_PYHOST_LINKED=ON")
    endif()
    add_library(pyhost MODULE worker/pyhost.c worker/pyhost_module.c)
    set_target_properties(pyhost PROPERTIES PREFIX "" OUTPUT_NAME pyhost
      LIBRARY_OUTPUT_DIRECTORY ${TCW_PYHOST_BUILD_DIR})
    target_include_directories(pyhost PRIVATE ${CMAKE_SOURCE_DIR}/include
                                              ${CMAKE_SOURCE_DIR}/worker)
    target_compile_definitions(pyhost PRIVATE TCW_PYHOST_MODULE=1
      TCW_DATADIR="${TCW_DATADIR}" TCW_PYTHON_HOME="${PYEMBED_PREFIX}")
    target_link_libraries(pyhost PRIVATE PkgConfig::PYEMBED)
    install(TARGETS pyhost LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/tcworker)
    target_sources(tcworker PRIVATE ${CMAKE_SOURCE_DIR}/worker/pyhost_load.c)
    target_compile_definitions(tcworker PRIVATE TCW_PYHOST_REL="${TCW_PYHOST_REL}")
    # built with tcworker, so that `make` leaves a working Python host
    add_dependencies(tcworker pyhost)
    message(STATUS "tcworker: Python workloads: yes (${PYEMBED_VERSION}, module "
      "${TCW_PLUGINDIR}/pyhost.so, loaded with dlopen)")
  endif()
else()
  # module/class entries are refused at load time, saying why
  target_sources(tcworker PRIVATE ${CMAKE_SOURCE_DIR}/worker/pyhost_none.c)
  message(STATUS "tcworker: Python workloads: no (pkg-config python3-embed not found or TCW_PYTHON=OFF)")
endif()
