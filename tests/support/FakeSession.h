#pragma once

#include "api/Snapshot.h"
#include "transport/StreamHandler.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayList>
#include <QtCore/QList>
#include <QtCore/QObject>

#include <functional>

namespace qmasque::test {

// FakeSession: a tunnel session stand-in for the owner and pool tests. It records every stream
// event in arrival order (`events`: "response 200", "data abc fin", "reset peer_reset",
// "datagram 0001", "closed shutdown") and describes its row with the fields set below.
class FakeSession : public QObject, public StreamHandler
{
    Q_OBJECT

public:
    using QObject::QObject;

    void onStreamResponse(StreamId id, const Response &response) override;
    void onStreamData(StreamId id, QByteArrayView data, bool fin) override;
    void onStreamReset(StreamId id, const Error &reason) override;
    void onDatagram(StreamId id, QByteArrayView payload) override;
    void onConnectionClosed(StreamId id, const Error &reason) override;
    void describeStream(StreamSnapshot &row) const override;

    QByteArrayList events;
    QList<StreamId> eventStreams; // the stream id of each event
    QByteArray received;          // stream data, concatenated
    QByteArrayList datagrams;
    int resets = 0;
    int closes = 0;
    Error lastError;
    std::function<void(const QByteArray &event)> onEvent; // runs after each recorded event

    // describeStream() output.
    QString localClient = QStringLiteral("test 127.0.0.1:1");
    QString target; // empty = keep the owner's default
    StreamState state = StreamState::Open;
    int responseStatus = 200;
    quint64 bytesSent = 0;
    quint64 bytesReceived = 0;

Q_SIGNALS:
    void eventRecorded();

private:
    void add(StreamId id, QByteArray event);
};

} // namespace qmasque::test
