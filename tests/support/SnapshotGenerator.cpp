#include "support/SnapshotGenerator.h"

#include "support/SnapshotTraffic.h"

#include <algorithm>

namespace qmasque::test {

namespace {

constexpr qint64 kDefaultStartMs = 1'700'000'000'000;

} // namespace

SnapshotGenerator::SnapshotGenerator(const SnapshotGeneratorConfig &config, qint64 startMs)
    : m_config(config)
    , m_random(config.seed)
    , m_nowMs(startMs > 0 ? startMs : kDefaultStartMs)
{
    // A warm start: the pool is already in its steady state, so a benchmark's first tick already
    // carries the full stream count.
    for (int i = 0; i < m_config.connections; ++i)
        addConnection(false, true);
    for (int i = 0; i < m_config.directConnections; ++i)
        addConnection(true, true);
    rebuildSnapshot();
}

EngineSnapshot SnapshotGenerator::next()
{
    return next(m_nowMs + m_config.intervalMs);
}

EngineSnapshot SnapshotGenerator::next(qint64 nowMs)
{
    const qint64 elapsed = std::max<qint64>(0, nowMs - m_nowMs);
    m_nowMs = std::max(m_nowMs, nowMs);
    tick(elapsed);
    rebuildSnapshot();
    return m_snapshot;
}

QList<TunnelRecord> SnapshotGenerator::takeClosedTunnels()
{
    return std::exchange(m_closed, {});
}

QList<RaceRecord> SnapshotGenerator::takeRaces()
{
    return std::exchange(m_races, {});
}

QList<LogEntry> SnapshotGenerator::takeLogs()
{
    return std::exchange(m_logs, {});
}

bool SnapshotGenerator::closeStream(quint64 connectionId, qint64 streamId)
{
    for (Connection &connection : m_connections) {
        if (connection.snapshot.id != connectionId)
            continue;
        for (Stream &stream : connection.streams) {
            if (stream.snapshot.streamId == streamId) {
                stream.closeRequested = true;
                return true;
            }
        }
    }
    return false;
}

bool SnapshotGenerator::closeConnection(quint64 connectionId)
{
    for (Connection &connection : m_connections) {
        if (connection.snapshot.id != connectionId)
            continue;
        if (connection.direct) {
            for (Stream &stream : connection.streams)
                stream.closeRequested = true;
        } else if (connection.snapshot.state != ConnectionState::Closing) {
            setConnectionState(connection, ConnectionState::Draining);
            log(QtInfoMsg, "qmasque.pool",
                QStringLiteral("connection %1: GOAWAY sent on request, %2 streams finish")
                    .arg(connectionId)
                    .arg(connection.streams.size()));
        }
        return true;
    }
    return false;
}

void SnapshotGenerator::tick(qint64 elapsedMs)
{
    int pooled = 0;
    int direct = 0;
    for (Connection &connection : m_connections)
        tickConnection(connection, elapsedMs);
    m_connections.removeIf([this](const Connection &connection) {
        const bool gone = connection.snapshot.state == ConnectionState::Closing &&
                          connection.ticksInState > 0 && connection.streams.isEmpty();
        if (gone) {
            ++m_counters.connectionsClosed;
            log(QtDebugMsg, "qmasque.pool",
                QStringLiteral("connection %1 closed").arg(connection.snapshot.id));
        }
        return gone;
    });
    for (const Connection &connection : m_connections) {
        const bool live = connection.snapshot.state != ConnectionState::Draining &&
                          connection.snapshot.state != ConnectionState::Closing;
        if (connection.direct)
            ++direct;
        else if (live)
            ++pooled;
    }
    // Replacements: a drained or idled-out connection is re-dialed when tunnels need one.
    for (; pooled < m_config.connections; ++pooled)
        addConnection(false, false);
    for (; direct < m_config.directConnections; ++direct) {
        if (uniform() < 0.1) { // now and then every transport fails for a direct tunnel
            RaceRecord race;
            race.tunnelId = m_nextTunnelId++;
            race.proxy =
                QStringLiteral("https://%1:%2").arg(m_config.proxyHost).arg(m_config.proxyPort);
            race.target = traffic::tcpTarget(m_random);
            race.startedAtMs = m_nowMs - 5000;
            race.attempts = traffic::raceAttempts(m_random, std::nullopt);
            race.error = QStringLiteral("race_timeout");
            m_races << race;
            ++m_tunnelsFailed;
            log(QtWarningMsg, "qmasque.race",
                QStringLiteral("tunnel %1 to %2: every transport failed (race_timeout)")
                    .arg(race.tunnelId)
                    .arg(race.target));
        }
        addConnection(true, false);
    }
}

void SnapshotGenerator::tickConnection(Connection &connection, qint64 elapsedMs)
{
    ConnectionSnapshot &c = connection.snapshot;
    ++connection.ticksInState;
    switch (c.state) {
    case ConnectionState::Dialing:
        if (connection.ticksInState >= 2) {
            setConnectionState(connection, ConnectionState::Ready);
            if (connection.direct) { // an h1 tunnel sends its request once TLS is up
                connection.streams << makeStream(connection, false);
                ++m_counters.checkouts;
            }
            log(QtInfoMsg, connection.direct ? "qmasque.h1" : "qmasque.pool",
                QStringLiteral("connection %1 ready: %2, %3, %4")
                    .arg(c.id)
                    .arg(QLatin1StringView(transportKindName(c.transport)), c.stats.tlsVersion,
                         c.stats.tlsCipher));
        }
        break;
    case ConnectionState::Ready:
    case ConnectionState::Full:
        if (!connection.direct && uniform() < m_config.connectionChurn) {
            setConnectionState(connection, ConnectionState::Draining);
            log(QtInfoMsg, "qmasque.pool",
                QStringLiteral("connection %1: GOAWAY received, draining %2 streams")
                    .arg(c.id)
                    .arg(connection.streams.size()));
        } else if (!connection.direct && connection.targetStreams > 0 &&
                   uniform() < m_config.idleChance) {
            connection.targetStreams = 0; // its tunnels end; the idle timer takes over
        }
        break;
    case ConnectionState::Draining:
        if (connection.streams.isEmpty())
            setConnectionState(connection, ConnectionState::Closing);
        break;
    case ConnectionState::Closing:
        break;
    }

    for (Stream &stream : connection.streams)
        tickStream(connection, stream);
    connection.streams.removeIf([&](const Stream &stream) {
        if (stream.snapshot.state != StreamState::Closing || stream.ticksInState == 0)
            return false;
        const QString reason = stream.refused          ? QStringLiteral("handshake_rejected")
                               : stream.closeRequested ? QStringLiteral("local_close")
                                                       : QStringLiteral("peer_fin");
        const QString detail = stream.refused ? QStringLiteral("HTTP %1, proxy-status %2")
                                                    .arg(stream.snapshot.responseStatus)
                                                    .arg(stream.snapshot.proxyStatus)
                               : stream.closeRequested ? QStringLiteral("closed from the dashboard")
                                                       : QString();
        closeStreamRecord(connection, stream, reason, detail);
        return true;
    });
    if (connection.direct && connection.streams.isEmpty() && c.state != ConnectionState::Dialing &&
        c.state != ConnectionState::Closing)
        setConnectionState(connection, ConnectionState::Closing);

    if (c.state == ConnectionState::Ready || c.state == ConnectionState::Full)
        openStreams(connection);
    if (c.state == ConnectionState::Ready || c.state == ConnectionState::Full) {
        const bool full = qint64(connection.streams.size()) >= c.streamLimit;
        if (full != (c.state == ConnectionState::Full))
            setConnectionState(connection, full ? ConnectionState::Full : ConnectionState::Ready);
    }

    // The idle timer runs only while no stream is in use (DESIGN.md, the upstream owner).
    if (!connection.direct && c.state == ConnectionState::Ready && connection.streams.isEmpty()) {
        c.idleRemainingMs = c.idleRemainingMs < 0
                                ? m_config.idleTimeoutMs
                                : std::max<qint64>(0, c.idleRemainingMs - elapsedMs);
        if (c.idleRemainingMs == 0) {
            setConnectionState(connection, ConnectionState::Closing);
            log(QtInfoMsg, "qmasque.pool", QStringLiteral("connection %1: idle timeout").arg(c.id));
        }
    } else {
        c.idleRemainingMs = -1;
    }

    // Transport measurements drift a little every tick, as a live connection's do.
    if (c.state != ConnectionState::Dialing && c.stats.smoothedRttUs > 0) {
        // Jitter around the path's RTT, pulled back towards it (a queue builds and drains).
        const qint64 pull = (connection.baseRttUs - c.stats.smoothedRttUs) / 16;
        const qint64 step = pull + qint64(m_random.bounded(1600)) - 800;
        c.stats.smoothedRttUs = std::clamp<qint64>(c.stats.smoothedRttUs + step, 2000, 400000);
        c.stats.minRttUs = std::min(c.stats.minRttUs, c.stats.smoothedRttUs);
        c.stats.rttVarianceUs = c.stats.smoothedRttUs / 8 + qint64(m_random.bounded(500));
        if (c.transport == TransportKind::H3) {
            c.stats.congestionWindow = std::clamp<quint64>(
                c.stats.congestionWindow + m_random.bounded(20000) - 9000, 14720, 4'000'000);
            c.stats.bytesInFlight = m_random.bounded(quint32(c.stats.congestionWindow));
            if (uniform() < 0.05)
                c.stats.packetsLost += between(1, 3);
        }
    }
}

void SnapshotGenerator::tickStream(Connection &connection, Stream &stream)
{
    StreamSnapshot &s = stream.snapshot;
    ++stream.ticksInState;
    switch (s.state) {
    case StreamState::Connecting:
        if (stream.ticksInState < 1)
            break;
        if (stream.refused) {
            const auto [status, error] = traffic::refusal(m_random);
            s.responseStatus = status;
            s.proxyStatus = m_config.proxyHost + QStringLiteral("; error=") + error;
            s.state = StreamState::Closing;
            stream.ticksInState = 0;
            ++m_tunnelsFailed;
            log(QtWarningMsg, "qmasque.tunnel",
                QStringLiteral("tunnel %1 %2 %3 refused: HTTP %4, %5")
                    .arg(stream.tunnelId)
                    .arg(QLatin1StringView(tunnelProtocolName(s.protocol)), s.target)
                    .arg(s.responseStatus)
                    .arg(s.proxyStatus));
        } else {
            s.responseStatus = 200;
            s.state = StreamState::Open;
            stream.ticksInState = 0;
            ++m_tunnelsOpened;
            ++m_counters.streamsOpened;
        }
        break;
    case StreamState::Open:
        // Draining connections lose their streams quickly: their applications finish.
        if (stream.closeRequested ||
            uniform() < (connection.snapshot.state == ConnectionState::Draining
                             ? 0.25
                             : m_config.streamChurn)) {
            s.state = StreamState::Closing;
            stream.ticksInState = 0;
        } else if (uniform() < m_config.changeFraction) {
            bumpStream(connection, stream);
        }
        break;
    case StreamState::Closing:
        break;
    }
}

void SnapshotGenerator::bumpStream(Connection &connection, Stream &stream)
{
    StreamSnapshot &s = stream.snapshot;
    TransportStats &stats = connection.snapshot.stats;
    const quint64 up = stream.rateUp / 2 + between(0, stream.rateUp);
    const quint64 down = stream.rateDown / 2 + between(0, stream.rateDown);
    s.bytesSent += up;
    s.bytesReceived += down;
    m_bytesSent += up;
    m_bytesReceived += down;
    // The wire carries framing on top of the payload: ~3% plus a header per write.
    stats.bytesSent += up + up / 32 + 60;
    stats.bytesReceived += down + down / 32 + 60;
    stats.framesSent += 1 + up / 1200;
    stats.framesReceived += 1 + down / 1200;
    if (s.datagramPath != DatagramPath::None) {
        const quint64 sent = 1 + up / 512;
        const quint64 received = 1 + down / 512;
        s.datagramsSent += sent;
        s.datagramsReceived += received;
        stats.datagramsSent += sent;
        stats.datagramsReceived += received;
        if (s.datagramPath == DatagramPath::QuicDatagram)
            connection.snapshot.datagramsRouted += received;
        if (uniform() < 0.03) {
            const quint64 dropped = between(1, 3);
            s.datagramsDropped += dropped;
            if (uniform() < 0.5)
                stats.datagramDrops.queueFull += dropped;
            else
                stats.datagramDrops.tooLarge += dropped;
        }
    }
}

void SnapshotGenerator::openStreams(Connection &connection)
{
    const qint64 room =
        std::min<qint64>(connection.targetStreams, connection.snapshot.streamLimit) -
        connection.streams.size();
    // A few tunnels per tick, as applications open them.
    const qint64 count = std::min<qint64>(room, connection.direct ? 1 : 3);
    for (qint64 i = 0; i < count; ++i) {
        if (!connection.direct && uniform() > 0.5)
            continue;
        connection.streams << makeStream(connection, false);
        ++m_counters.checkouts;
    }
}

void SnapshotGenerator::addConnection(bool direct, bool warm)
{
    Connection connection;
    connection.direct = direct;
    connection.createdAtMs = warm ? m_nowMs - qint64(m_random.bounded(600'000)) : m_nowMs;
    ConnectionSnapshot &c = connection.snapshot;
    c.id = m_nextConnectionId++;
    c.transport = direct                         ? TransportKind::H1
                  : uniform() < m_config.h3Share ? TransportKind::H3
                                                 : TransportKind::H2;
    c.proxyHost = m_config.proxyHost;
    c.proxyPort = m_config.proxyPort;
    c.fingerprint = QStringLiteral("%1 %2:%3 3fa2c1d0")
                        .arg(QLatin1StringView(transportKindName(c.transport)), c.proxyHost)
                        .arg(c.proxyPort);
    // Some proxies grant exactly the streams the generator wants: those connections run full.
    const bool tight = !direct && uniform() < 0.3;
    c.streamLimit = direct  ? 1
                    : tight ? std::max(1, m_config.streamsPerConnection)
                            : std::max(100, m_config.streamsPerConnection);
    c.streamLimitSource = direct                                ? StreamLimitSource::Fixed
                          : m_config.streamsPerConnection > 100 ? StreamLimitSource::Fixed
                          : tight || uniform() < 0.7            ? StreamLimitSource::Peer
                                                                : StreamLimitSource::Default;
    connection.targetStreams = direct ? 1 : m_config.streamsPerConnection;
    connection.nextStreamId = c.transport == TransportKind::H3 ? 0 : 1;

    TransportStats &stats = c.stats;
    stats.kind = c.transport;
    stats.alpn = direct                             ? QStringLiteral("http/1.1")
                 : c.transport == TransportKind::H3 ? QStringLiteral("h3")
                                                    : QStringLiteral("h2");
    stats.quicVersion = c.transport == TransportKind::H3
                            ? (uniform() < 0.8 ? QStringLiteral("v1") : QStringLiteral("v2"))
                            : QString();
    stats.tlsVersion = QStringLiteral("TLSv1.3");
    stats.tlsCipher = traffic::tlsCipher(m_random);
    stats.tlsGroup = traffic::tlsGroup(m_random);
    stats.peerCertificate =
        QStringLiteral("CN=%1, issuer CN=Example CA, expires 2027-03-01").arg(c.proxyHost);
    if (!direct) {
        connection.baseRttUs = qint64(between(12'000, 60'000));
        stats.smoothedRttUs = connection.baseRttUs;
        stats.minRttUs = stats.smoothedRttUs - stats.smoothedRttUs / 5;
        stats.rttVarianceUs = stats.smoothedRttUs / 8;
    }
    if (c.transport == TransportKind::H3) {
        stats.congestionWindow = between(40'000, 400'000);
        stats.pathMtu = uniform() < 0.85 ? 1452 : 1280;
    }

    ++m_counters.dialsStarted;
    raceFor(connection, direct ? traffic::tcpTarget(m_random) : traffic::udpTarget(m_random));
    if (warm) {
        c.state = ConnectionState::Ready;
        const int streams = std::min<int>(connection.targetStreams, int(c.streamLimit));
        for (int i = 0; i < streams; ++i)
            connection.streams << makeStream(connection, true);
        if (connection.streams.size() >= c.streamLimit)
            c.state = ConnectionState::Full;
    } else {
        c.state = ConnectionState::Dialing;
        log(QtDebugMsg, "qmasque.pool",
            QStringLiteral("connection %1: dialing %2").arg(c.id).arg(c.fingerprint));
    }
    m_connections << connection;
}

SnapshotGenerator::Stream SnapshotGenerator::makeStream(Connection &connection, bool warm)
{
    Stream stream;
    stream.tunnelId = m_nextTunnelId++;
    stream.openedAtMs =
        warm ? std::max(connection.createdAtMs, m_nowMs - qint64(m_random.bounded(300'000)))
             : m_nowMs;
    StreamSnapshot &s = stream.snapshot;
    const bool h3 = connection.snapshot.transport == TransportKind::H3;
    s.streamId = connection.direct ? 1 : connection.nextStreamId;
    connection.nextStreamId += h3 ? 4 : 2; // client-initiated bidirectional ids
    const double kind = uniform();
    s.protocol = connection.direct ? TunnelProtocol::Tcp
                 : kind < 0.5      ? TunnelProtocol::Udp
                 : kind < 0.9      ? TunnelProtocol::Tcp
                                   : TunnelProtocol::Ip;
    switch (s.protocol) {
    case TunnelProtocol::Udp:
        s.target = traffic::udpTarget(m_random);
        s.localClient = uniform() < 0.5
                            ? QStringLiteral("udp-forward 127.0.0.1:5353")
                            : QStringLiteral("socks5 127.0.0.1:%1").arg(between(40000, 60999));
        break;
    case TunnelProtocol::Tcp:
        s.target = traffic::tcpTarget(m_random);
        s.localClient = uniform() < 0.6
                            ? QStringLiteral("socks5 127.0.0.1:%1").arg(between(40000, 60999))
                            : QStringLiteral("http-proxy 127.0.0.1:%1").arg(between(40000, 60999));
        break;
    case TunnelProtocol::Ip:
        s.target = traffic::ipTarget(m_random);
        s.localClient = QStringLiteral("tun qmasque0");
        break;
    }
    s.datagramPath = s.protocol == TunnelProtocol::Tcp ? DatagramPath::None
                     : h3                              ? DatagramPath::QuicDatagram
                                                       : DatagramPath::Capsule;
    stream.rateUp =
        s.protocol == TunnelProtocol::Tcp ? between(2'000, 40'000) : between(200, 4'000);
    stream.rateDown = stream.rateUp * between(2, 12);
    if (warm) {
        s.state = StreamState::Open;
        s.responseStatus = 200;
        ++m_tunnelsOpened;
        ++m_counters.streamsOpened;
        const quint64 ticks = quint64(m_nowMs - stream.openedAtMs) / 250;
        s.bytesSent = stream.rateUp * ticks / 10;
        s.bytesReceived = stream.rateDown * ticks / 10;
        if (s.datagramPath != DatagramPath::None) {
            s.datagramsSent = s.bytesSent / 512;
            s.datagramsReceived = s.bytesReceived / 512;
        }
        m_bytesSent += s.bytesSent;
        m_bytesReceived += s.bytesReceived;
        TransportStats &stats = connection.snapshot.stats;
        stats.bytesSent += s.bytesSent + s.bytesSent / 32;
        stats.bytesReceived += s.bytesReceived + s.bytesReceived / 32;
        stats.datagramsSent += s.datagramsSent;
        stats.datagramsReceived += s.datagramsReceived;
    } else {
        s.state = StreamState::Connecting;
        stream.refused = uniform() < m_config.failureRate;
    }
    return stream;
}

void SnapshotGenerator::closeStreamRecord(const Connection &connection, const Stream &stream,
                                          const QString &reason, const QString &detail)
{
    const StreamSnapshot &s = stream.snapshot;
    TunnelRecord record;
    record.tunnelId = stream.tunnelId;
    record.protocol = s.protocol;
    record.transport = connection.snapshot.transport;
    record.connectionId = connection.snapshot.id;
    record.streamId = s.streamId;
    record.target = s.target;
    record.localClient = s.localClient;
    record.openedAtMs = stream.openedAtMs;
    record.closedAtMs = m_nowMs;
    record.openLatencyMs = stream.refused ? -1 : qint64(15 + m_random.bounded(120));
    record.responseStatus = s.responseStatus;
    record.proxyStatus = s.proxyStatus;
    record.closeReason = reason;
    record.closeDetail = detail;
    record.bytesSent = s.bytesSent;
    record.bytesReceived = s.bytesReceived;
    record.datagramsSent = s.datagramsSent;
    record.datagramsReceived = s.datagramsReceived;
    record.datagramsDropped = s.datagramsDropped;
    m_closed << record;
}

void SnapshotGenerator::raceFor(const Connection &connection, const QString &target)
{
    RaceRecord race;
    race.tunnelId = m_nextTunnelId; // the tunnel that needed this connection
    race.proxy = QStringLiteral("https://%1:%2").arg(m_config.proxyHost).arg(m_config.proxyPort);
    race.target = target;
    race.startedAtMs = m_nowMs;
    const TransportKind winner = connection.snapshot.transport;
    race.attempts = traffic::raceAttempts(m_random, winner);
    race.winner = winner;
    m_races << race;
}

void SnapshotGenerator::setConnectionState(Connection &connection, ConnectionState state)
{
    connection.snapshot.state = state;
    connection.ticksInState = 0;
}

void SnapshotGenerator::log(QtMsgType level, const char *category, const QString &message)
{
    m_logs << LogEntry{m_nowMs, level, QLatin1StringView(category), message};
}

void SnapshotGenerator::rebuildSnapshot()
{
    EngineSnapshot &snapshot = m_snapshot;
    snapshot.state = EngineState::Running;
    snapshot.profileName = QStringLiteral("demo");
    snapshot.proxy =
        QStringLiteral("https://%1:%2").arg(m_config.proxyHost).arg(m_config.proxyPort);
    snapshot.listeners = {QStringLiteral("socks5 127.0.0.1:1080"),
                          QStringLiteral("http-proxy 127.0.0.1:8080"),
                          QStringLiteral("udp-forward 127.0.0.1:5353=dns.google:53")};
    PoolSnapshot &pool = snapshot.pool;
    pool.takenAtMs = m_nowMs;
    pool.connections.clear();
    pool.dials.clear();
    snapshot.directConnections.clear();
    pool.totals = {};
    for (Connection &connection : m_connections) {
        ConnectionSnapshot c = connection.snapshot;
        c.ageMs = m_nowMs - connection.createdAtMs;
        c.streamsInUse = connection.streams.size();
        c.stats.streamsOpen = quint32(connection.streams.size());
        c.streams.reserve(connection.streams.size());
        for (const Stream &stream : std::as_const(connection.streams)) {
            c.streams << stream.snapshot;
            c.streams.last().ageMs = m_nowMs - stream.openedAtMs;
        }
        if (connection.direct) {
            snapshot.directConnections << c;
            continue;
        }
        pool.totals.connections += 1;
        pool.totals.streams += c.streamsInUse;
        pool.totals.streamLimit += c.streamLimit;
        if (c.state == ConnectionState::Dialing) {
            pool.totals.dials += 1;
            DialSnapshot dial;
            dial.fingerprint = c.fingerprint;
            dial.transport = c.transport;
            dial.proxyHost = c.proxyHost;
            dial.proxyPort = c.proxyPort;
            dial.dialing = true;
            dial.ownerId = c.id;
            dial.ageMs = c.ageMs;
            dial.waiters = 1 + qint64(c.id % 3);
            pool.totals.waiters += dial.waiters;
            pool.dials << dial;
        }
        pool.connections << c;
    }
    pool.counters = m_counters;
    snapshot.tunnelsOpened = m_tunnelsOpened;
    snapshot.tunnelsFailed = m_tunnelsFailed;
    snapshot.bytesSent = m_bytesSent;
    snapshot.bytesReceived = m_bytesReceived;
}

} // namespace qmasque::test
