#pragma once

#include <functional>

namespace qmasque::test {

// waitUntil: runs the event loop until `condition` holds or `timeoutMs` passed; returns whether it
// holds. Wakes on every event (not on a polling step), so long sequences of round trips stay
// fast; a coarse wake-up timer bounds the wait when nothing happens.
bool waitUntil(const std::function<bool()> &condition, int timeoutMs = 10000);

} // namespace qmasque::test
