#pragma once

#include <cstdio>
#include <cstdlib>

// FUZZ_CHECK: an invariant of a fuzz target. Unlike assert() it stays on in release builds, and a
// failure aborts, which libFuzzer reports as a crash with the input that caused it.
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)
