#include "api/EngineEvents.h"

#include "api/Error.h"
#include "api/Profile.h"

namespace qmasque {

const char *engineStateName(EngineState state) noexcept
{
    switch (state) {
    case EngineState::Stopped:
        return "stopped";
    case EngineState::Starting:
        return "starting";
    case EngineState::Running:
        return "running";
    case EngineState::Stopping:
        return "stopping";
    case EngineState::Failed:
        return "failed";
    }
    return "unknown";
}

void registerEngineMetaTypes()
{
    registerSnapshotMetaTypes();
    qRegisterMetaType<EngineState>();
    qRegisterMetaType<EngineSnapshot>();
    qRegisterMetaType<TunnelRecord>();
    qRegisterMetaType<RaceRecord>();
    qRegisterMetaType<LogEntry>();
    qRegisterMetaType<Error>();
    qRegisterMetaType<Profile>();
}

} // namespace qmasque
