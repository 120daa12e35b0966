# SPDX-License-Identifier: Apache-2.0
# packaging.cmake - what `make install` and the Debian packages add around the
# programs: man pages, bash completion, the plugin header's pkg-config file
# and, when TCW_SYSTEMD_UNITDIR is set, the systemd unit with its default
# configuration. Included from the top-level CMakeLists.txt after detect/.

install(FILES man/tcworker.1 man/tcclient.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES man/tcw-workload.7 DESTINATION ${CMAKE_INSTALL_MANDIR}/man7)
if(TCW_HAVE_OPENCV)
  install(FILES man/tcdetect.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

install(FILES deploy/completion/tcworker deploy/completion/tcclient
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# Header-only: the .pc goes to the architecture-independent pkg-config dir.
# includedir is written out in full: pkg-config drops -I/usr/include, so the
# header lives one level down (<includedir>/tcworker/tcw/workload.h).
set(TCW_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
configure_file(include/tcw-workload.pc.in ${CMAKE_BINARY_DIR}/install/tcw-workload.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/install/tcw-workload.pc
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)

# systemd unit (e.g. /lib/systemd/system on Debian 12); off by default
# because a /usr/local install has no business in the service manager's
# directories.
set(TCW_SYSTEMD_UNITDIR "" CACHE PATH "Install tcworker.service here (empty = do not)")
if(TCW_SYSTEMD_UNITDIR)
  configure_file(deploy/systemd/tcworker.service.in
                 ${CMAKE_BINARY_DIR}/install/tcworker.service @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/install/tcworker.service
          DESTINATION ${TCW_SYSTEMD_UNITDIR})
  install(FILES deploy/systemd/tcworker.ini
          DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/tcworker)
endif()

# tcgateway (gateway/), when it is part of the tree: its man page, unit and
# configuration go with it.
if(EXISTS ${CMAKE_SOURCE_DIR}/gateway/CMakeLists.txt)
  install(FILES man/tcgateway.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  if(TCW_SYSTEMD_UNITDIR)
    configure_file(deploy/systemd/tcgateway.service.in
                   ${CMAKE_BINARY_DIR}/install/tcgateway.service @ONLY)
    install(FILES ${CMAKE_BINARY_DIR}/install/tcgateway.service
            DESTINATION ${TCW_SYSTEMD_UNITDIR})
    install(FILES deploy/systemd/tcgateway.ini
            DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/tcgateway)
  endif()
endif()
