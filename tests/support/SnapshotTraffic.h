#pragma once

#include "api/EngineEvents.h"

#include <QtCore/QRandomGenerator>
#include <QtCore/QString>

#include <optional>
#include <utility>

// The vocabulary of SnapshotGenerator's synthetic traffic: realistic targets, TLS parameters,
// proxy refusals and transport races. Pure functions of the random generator given.
namespace qmasque::test::traffic {

QString udpTarget(QRandomGenerator &random);
QString tcpTarget(QRandomGenerator &random);
QString ipTarget(QRandomGenerator &random);
QString tlsCipher(QRandomGenerator &random);
QString tlsGroup(QRandomGenerator &random);
// refusal: an HTTP status and the Proxy-Status error parameters of a refused tunnel
// ("destination_ip_prohibited", "dns_error; rcode=NXDOMAIN").
std::pair<int, QString> refusal(QRandomGenerator &random);

// raceAttempts: how the racer's attempts went when `winner` won (DESIGN.md, Tunnels: h3 at
// 0 ms, h2 250 ms later, h1 500 ms after h2; the first 2xx wins, the others are cancelled), or,
// without a winner, how every attempt failed before the 5 s deadline.
QList<RaceAttempt> raceAttempts(QRandomGenerator &random, std::optional<TransportKind> winner);

} // namespace qmasque::test::traffic
