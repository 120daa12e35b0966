# SPDX-License-Identifier: Apache-2.0
# enclave.cmake - install-time pieces of the Python enclave (deploy/gramine,
# PYTHON=1): in a TCW_STATIC_PLUGINS build with embedded Python, `install`
# also writes <libdir>/tcworker/python311.zip (the standard library,
# byte-compiled, reproducibly) and python-dynload.txt (the lib-dynload
# modules the enclave trusts), with deploy/gramine/python-stdlib.py run by
# the embedded Python's own interpreter. Included from the top-level
# CMakeLists.txt after cmake/python.cmake.

if(TCW_STATIC_PLUGINS AND PYEMBED_FOUND)
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" tcw_py_mm "${PYEMBED_VERSION}")
  string(REPLACE "." "" tcw_py_nodot "${tcw_py_mm}")
  set(tcw_py_exe "${PYEMBED_PREFIX}/bin/python${tcw_py_mm}")
  set(tcw_py_stdlib "${PYEMBED_PREFIX}/lib/python${tcw_py_mm}")
  if(NOT EXISTS "${tcw_py_exe}" OR NOT EXISTS "${tcw_py_stdlib}/os.py")
    message(FATAL_ERROR "TCW_STATIC_PLUGINS with Python: ${tcw_py_exe} or "
                        "${tcw_py_stdlib} missing (python${tcw_py_mm} package)")
  endif()
  set(tcw_py_script "${CMAKE_SOURCE_DIR}/deploy/gramine/python-stdlib.py")
  install(CODE "
    set(dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/tcworker\")
    file(MAKE_DIRECTORY \"\${dir}\")
    message(STATUS \"Packing the Python standard library: \${dir}/python${tcw_py_nodot}.zip\")
    execute_process(COMMAND \"${tcw_py_exe}\" -I -B \"${tcw_py_script}\" \"${tcw_py_stdlib}\"
                            \"\${dir}/python${tcw_py_nodot}.zip\" \"\${dir}/python-dynload.txt\"
                    RESULT_VARIABLE rc OUTPUT_QUIET)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"python-stdlib.py failed (\${rc})\")
    endif()
  ")
  message(STATUS "tcworker: enclave Python standard library zip at install time")
endif()
