#pragma once

#include "api/Profile.h"

#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace qmasque::ui {

// ProfileStore: the profiles of one directory, one JSON file each (Profile::save/load), named
// after the profile ("Work VPN" -> "Work-VPN.json"). The CLI's default profile
// (Profile::defaultPath()) lives in the default directory, so the dashboard lists it too.
// Not thread-safe; GUI thread.
class ProfileStore
{
public:
    struct Entry
    {
        QString path;
        std::optional<Profile> profile; // empty when the file does not load
        QString error;                  // why it does not load
    };

    explicit ProfileStore(const QString &directory = defaultDirectory());

    // defaultDirectory: the directory of Profile::defaultPath().
    static QString defaultDirectory();
    QString directory() const { return m_directory; }

    // entries: every *.json file of the directory, ordered by profile name (then file name).
    QList<Entry> entries() const;
    // profiles: the loadable ones.
    QList<Profile> profiles() const;
    std::optional<Profile> find(const QString &name) const;

    // pathFor: the file a profile of that name is saved to.
    QString pathFor(const QString &profileName) const;
    // save: validates, then writes pathFor(profile.name). When `previousPath` names another file
    // (the profile was renamed), that file is removed after the write succeeded.
    Status save(const Profile &profile, const QString &previousPath = {}) const;
    bool remove(const QString &path) const;

private:
    QString m_directory;
};

} // namespace qmasque::ui
