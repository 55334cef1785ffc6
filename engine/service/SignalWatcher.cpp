#include "service/SignalWatcher.h"

#include <QtCore/QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace qmasque {

namespace {

int g_writeFd = -1;
struct sigaction g_previousInt;
struct sigaction g_previousTerm;
struct sigaction g_previousPipe;

void handleSignal(int signalNumber)
{
    // Only async-signal-safe calls here: the signal number travels as one byte.
    const char byte = char(signalNumber);
    (void)!::write(g_writeFd, &byte, 1);
}

} // namespace

SignalWatcher::SignalWatcher(QObject *parent)
    : QObject(parent)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, m_fds) != 0)
        return;
    g_writeFd = m_fds[1];
    struct sigaction action = {};
    action.sa_handler = handleSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, &g_previousInt);
    sigaction(SIGTERM, &action, &g_previousTerm);
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &g_previousPipe);
    m_notifier = new QSocketNotifier(m_fds[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SignalWatcher::handleActivated);
}

SignalWatcher::~SignalWatcher()
{
    if (m_fds[0] < 0)
        return;
    sigaction(SIGINT, &g_previousInt, nullptr);
    sigaction(SIGTERM, &g_previousTerm, nullptr);
    sigaction(SIGPIPE, &g_previousPipe, nullptr);
    g_writeFd = -1;
    delete m_notifier;
    ::close(m_fds[0]);
    ::close(m_fds[1]);
}

void SignalWatcher::handleActivated()
{
    char bytes[16];
    const ssize_t got = ::read(m_fds[0], bytes, sizeof bytes);
    for (ssize_t i = 0; i < got; ++i)
        emit received(int(bytes[i]), ++m_count);
}

} // namespace qmasque
