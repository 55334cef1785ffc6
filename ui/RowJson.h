#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QJsonObject>

namespace qmasque::ui {

// JSON for "copy row as JSON". The keys and values are those of the snapshot JSON
// (docs/snapshot-json.md), so a copied row reads like the CLI's output.
QJsonObject connectionToJson(const ConnectionSnapshot &connection, bool direct);
// streamToJson: one stream, with its connection's id and transport added.
QJsonObject streamToJson(const StreamSnapshot &stream, quint64 connectionId,
                         TransportKind transport);
QJsonObject tunnelRecordToJson(const TunnelRecord &record);

} // namespace qmasque::ui
