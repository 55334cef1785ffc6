#include "ui/ProfileStore.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>

#include <algorithm>

namespace qmasque::ui {

ProfileStore::ProfileStore(const QString &directory)
    : m_directory(directory)
{}

QString ProfileStore::defaultDirectory()
{
    return QFileInfo(Profile::defaultPath()).absolutePath();
}

QList<ProfileStore::Entry> ProfileStore::entries() const
{
    QList<Entry> entries;
    const QDir dir(m_directory);
    const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QString &file : files) {
        Entry entry;
        entry.path = dir.filePath(file);
        auto loaded = Profile::load(entry.path);
        if (loaded)
            entry.profile = *loaded;
        else
            entry.error = loaded.error().detail;
        entries << entry;
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        const QString left = a.profile ? a.profile->name : QFileInfo(a.path).baseName();
        const QString right = b.profile ? b.profile->name : QFileInfo(b.path).baseName();
        return left.compare(right, Qt::CaseInsensitive) < 0;
    });
    return entries;
}

QList<Profile> ProfileStore::profiles() const
{
    QList<Profile> profiles;
    const QList<Entry> all = entries();
    for (const Entry &entry : all) {
        if (entry.profile)
            profiles << *entry.profile;
    }
    return profiles;
}

std::optional<Profile> ProfileStore::find(const QString &name) const
{
    const QList<Profile> all = profiles();
    for (const Profile &profile : all) {
        if (profile.name == name)
            return profile;
    }
    return std::nullopt;
}

QString ProfileStore::pathFor(const QString &profileName) const
{
    // A portable file name: letters, digits, '.', '_' and '-'; everything else becomes '-'.
    QString base;
    for (QChar c : profileName.trimmed()) {
        const bool plain = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') ||
                           (c >= u'0' && c <= u'9') || c == u'.' || c == u'_' || c == u'-';
        base += plain ? c : QLatin1Char('-');
    }
    while (base.startsWith(u'.'))
        base.remove(0, 1);
    if (base.isEmpty())
        base = QStringLiteral("profile");
    return QDir(m_directory).filePath(base + QStringLiteral(".json"));
}

Status ProfileStore::save(const Profile &profile, const QString &previousPath) const
{
    if (auto valid = profile.validate(); !valid)
        return valid;
    const QString path = pathFor(profile.name);
    if (auto saved = profile.save(path); !saved)
        return saved;
    if (!previousPath.isEmpty() &&
        QFileInfo(previousPath).absoluteFilePath() != QFileInfo(path).absoluteFilePath())
        QFile::remove(previousPath);
    return {};
}

bool ProfileStore::remove(const QString &path) const
{
    return QFile::remove(path);
}

} // namespace qmasque::ui
