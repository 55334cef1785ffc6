# qmasque_common: the one INTERFACE target every QMasque target links. It carries the language
# standard, the warning policy (warnings are errors) and the Qt hygiene defines.
add_library(qmasque_common INTERFACE)
target_compile_features(qmasque_common INTERFACE cxx_std_20)
target_compile_options(qmasque_common INTERFACE
    -Wall -Wextra -Wpedantic -Werror
    -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough
    -Wformat=2 -Wcast-qual -Wundef -Wmissing-declarations)
target_compile_definitions(qmasque_common INTERFACE
    QT_NO_CAST_FROM_ASCII
    QT_NO_CAST_TO_ASCII
    QT_NO_CONTEXTLESS_CONNECT
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_NO_URL_CAST_FROM_STRING
    QT_USE_QSTRINGBUILDER
    QT_NO_FOREACH)

set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
set(CMAKE_AUTOMOC ON)
