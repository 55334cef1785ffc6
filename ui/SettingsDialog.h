#pragma once

#include "ui/ProfileStore.h"

#include <QtWidgets/QDialog>

class QDialogButtonBox;
class QLabel;
class QListWidget;
class QPushButton;

namespace qmasque::ui {

class ProfileForm;

// SettingsDialog: edits the profiles of a ProfileStore directory: a list of the profiles on the
// left (files that do not load are listed with their error), the ProfileForm on the right with
// the validation message next to the field it names, and New / Duplicate / Delete / Save. Save
// is enabled only for a valid profile and writes its JSON file (Profile::save, atomically).
// GUI thread only.
class SettingsDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit SettingsDialog(const QString &profileDirectory, QWidget *parent = nullptr);

    // selectProfile: shows the profile of that name (when it exists).
    void selectProfile(const QString &name);

    ProfileForm *form() const { return m_form; }
    QListWidget *profileList() const { return m_list; }
    QPushButton *saveButton() const { return m_save; }
    QLabel *statusLabel() const { return m_status; }

    // save: validates and writes the form's profile. True when written.
    bool save();

Q_SIGNALS:
    // profilesChanged: a profile was saved or deleted; `current` names the one to select.
    void profilesChanged(const QString &current);

private:
    void reload(const QString &select);
    void showEntry(int row);
    void newProfile();
    void duplicateProfile();
    void deleteProfile();
    void updateButtons();
    QString uniqueName(const QString &base) const;

    ProfileStore m_store;
    QList<ProfileStore::Entry> m_entries;
    QString m_currentPath; // the file the form was loaded from ("" for a new profile)
    bool m_dirty = false;
    QListWidget *m_list;      // child
    ProfileForm *m_form;      // child
    QPushButton *m_save;      // child
    QPushButton *m_delete;    // child
    QPushButton *m_duplicate; // child
    QLabel *m_status;         // child
};

} // namespace qmasque::ui
