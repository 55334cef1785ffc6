# Fails when the layering breaks: the engine must not include Qt Widgets, and the UI must not
# include the protocol or TLS libraries (it sees only the engine's API).
function(check_forbidden dir regex what)
    file(GLOB_RECURSE files "${SOURCE_DIR}/${dir}/*.cpp" "${SOURCE_DIR}/${dir}/*.h")
    foreach(f IN LISTS files)
        file(STRINGS "${f}" hits REGEX "${regex}")
        if(hits)
            message(SEND_ERROR "${f}: ${what}: ${hits}")
        endif()
    endforeach()
endfunction()
check_forbidden(engine "#include[ \t]*[<\"](QtWidgets|QWidget|QMainWindow|QApplication)"
    "the engine must not include Widgets")
check_forbidden(ui "#include[ \t]*[<\"](nghttp2|ngtcp2|nghttp3|openssl|gnutls)/"
    "the UI must not include protocol/TLS library headers")
check_forbidden(ui "#include[ \t]*\"(transport|pool|tunnel|local|proxy|wire|core)/"
    "the UI includes only engine/api headers")
