# Fails when a C++ source is not clang-format clean. Run as a CTest test (format_check) or by hand:
#   cmake -DSOURCE_DIR=. -P cmake/CheckFormat.cmake
# Fix with: scripts/format.sh
find_program(CLANG_FORMAT NAMES clang-format clang-format-14)
if(NOT CLANG_FORMAT)
    message(FATAL_ERROR "clang-format not found; run scripts/setup.sh")
endif()
set(_files)
foreach(dir engine ui app tests bench)
    file(GLOB_RECURSE _found "${SOURCE_DIR}/${dir}/*.cpp" "${SOURCE_DIR}/${dir}/*.h")
    list(APPEND _files ${_found})
endforeach()
list(FILTER _files EXCLUDE REGEX "/(corpus|testdata)/")
list(LENGTH _files _count)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${_files}
    RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "clang-format differences (run scripts/format.sh):\n${_err}")
endif()
message(STATUS "clang-format: ${_count} files clean")
