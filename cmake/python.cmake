# SPDX-License-Identifier: Apache-2.0
# python.cmake - optional embedded CPython for workloads.json module/class
# entries (worker/pyhost.c). On when pkg-config finds python3-embed (Debian:
# python3-dev); deliberately not FindPython3, which may pick another
# interpreter from PATH. Included from the top-level CMakeLists.txt after the
# tcworker target.

option(TCW_PYTHON
  "Embed CPython for Python workloads when pkg-config finds python3-embed" ON)

if(TCW_PYTHON)
  pkg_check_modules(PYEMBED QUIET IMPORTED_TARGET python3-embed)
endif()

if(PYEMBED_FOUND)
  target_sources(tcworker PRIVATE ${CMAKE_SOURCE_DIR}/worker/pyhost.c)
  # TCW_PYTHON_HOME pins the interpreter's prefix (standard library) to the
  # one the worker links against.
  target_compile_definitions(tcworker PRIVATE TCW_WITH_PYTHON=1
    TCW_PYTHON_HOME="${PYEMBED_PREFIX}")
  target_link_libraries(tcworker PRIVATE PkgConfig::PYEMBED)
  # The worker finds the avalon_worker package in <bin>/../share/tcworker/
  # python: installed there, and linked there in the build tree.
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/share/tcworker)
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/python
       ${CMAKE_BINARY_DIR}/share/tcworker/python SYMBOLIC)
  install(DIRECTORY python/ DESTINATION ${CMAKE_INSTALL_DATADIR}/tcworker/python
          PATTERN __pycache__ EXCLUDE PATTERN "*.pyc" EXCLUDE)
  install(FILES workloads-python.json DESTINATION ${CMAKE_INSTALL_DATADIR}/tcworker)
  message(STATUS "tcworker: Python workloads: yes (${PYEMBED_VERSION})")
else()
  # module/class entries are refused at load time, saying why
  target_sources(tcworker PRIVATE ${CMAKE_SOURCE_DIR}/worker/pyhost_none.c)
  message(STATUS "tcworker: Python workloads: no (pkg-config python3-embed not found or TCW_PYTHON=OFF)")
endif()
