#include "ui/SettingsDialog.h"

#include "ui/Icons.h"
#include "ui/ProfileForm.h"
#include "ui/Theme.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtWidgets/QDialogButtonBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QListWidget>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QStyle>
#include <QtWidgets/QVBoxLayout>

namespace qmasque::ui {

SettingsDialog::SettingsDialog(const QString &profileDirectory, QWidget *parent)
    : QDialog(parent)
    , m_store(profileDirectory)
    , m_list(new QListWidget(this))
    , m_form(new ProfileForm(this))
    , m_save(new QPushButton(tr("Save"), this))
    , m_delete(new QPushButton(tr("Delete"), this))
    , m_duplicate(new QPushButton(tr("Duplicate"), this))
    , m_status(new QLabel(this))
{
    setWindowTitle(tr("QMasque profiles"));
    setWindowIcon(icons::application());
    m_list->setObjectName(QStringLiteral("profileList"));
    m_save->setObjectName(QStringLiteral("saveProfile"));
    m_save->setDefault(true);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *newButton = new QPushButton(tr("New"), this);
    connect(newButton, &QPushButton::clicked, this, &SettingsDialog::newProfile);
    connect(m_duplicate, &QPushButton::clicked, this, &SettingsDialog::duplicateProfile);
    connect(m_delete, &QPushButton::clicked, this, &SettingsDialog::deleteProfile);
    connect(m_save, &QPushButton::clicked, this, &SettingsDialog::save);
    connect(m_list, &QListWidget::currentRowChanged, this, &SettingsDialog::showEntry);
    connect(m_form, &ProfileForm::edited, this, [this] {
        m_dirty = true;
        m_status->clear();
        updateButtons();
    });

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto *directory =
        new QLabel(tr("Profiles in %1").arg(QDir::toNativeSeparators(m_store.directory())), left);
    directory->setWordWrap(true);
    leftLayout->addWidget(directory);
    leftLayout->addWidget(m_list, 1);
    auto *listButtons = new QHBoxLayout;
    listButtons->addWidget(newButton);
    listButtons->addWidget(m_duplicate);
    listButtons->addWidget(m_delete);
    leftLayout->addLayout(listButtons);

    auto *splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(m_form);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 3);
    splitter->setChildrenCollapsible(false);

    auto *box = new QDialogButtonBox(QDialogButtonBox::Close, this);
    box->addButton(m_save, QDialogButtonBox::ActionRole); // saving keeps the dialog open
    connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(box);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter, 1);
    layout->addLayout(bottom);
    resize(940, 620);
    reload({});
}

void SettingsDialog::reload(const QString &select)
{
    m_entries = m_store.entries();
    const QSignalBlocker blocker(m_list);
    m_list->clear();
    int selectRow = m_entries.isEmpty() ? -1 : 0;
    for (int i = 0; i < m_entries.size(); ++i) {
        const ProfileStore::Entry &entry = m_entries.at(i);
        auto *item = new QListWidgetItem(m_list);
        if (entry.profile) {
            item->setText(entry.profile->name);
            item->setToolTip(QDir::toNativeSeparators(entry.path));
            if (entry.profile->name == select)
                selectRow = i;
        } else {
            item->setText(tr("%1 (does not load)").arg(QFileInfo(entry.path).fileName()));
            item->setIcon(style()->standardIcon(QStyle::SP_MessageBoxWarning));
            item->setToolTip(entry.error);
        }
    }
    if (selectRow < 0) {
        newProfile();
        return;
    }
    m_list->setCurrentRow(selectRow);
    showEntry(selectRow);
}

void SettingsDialog::selectProfile(const QString &name)
{
    for (int i = 0; i < m_entries.size(); ++i) {
        if (m_entries.at(i).profile && m_entries.at(i).profile->name == name) {
            m_list->setCurrentRow(i);
            return;
        }
    }
}

void SettingsDialog::showEntry(int row)
{
    if (row < 0 || row >= m_entries.size())
        return;
    const ProfileStore::Entry &entry = m_entries.at(row);
    m_currentPath = entry.path;
    if (entry.profile) {
        m_form->setProfile(*entry.profile);
        m_form->setEnabled(true);
        m_status->clear();
    } else {
        m_form->setEnabled(false);
        m_status->setText(
            tr("%1 does not load: %2").arg(QDir::toNativeSeparators(entry.path), entry.error));
    }
    m_dirty = false;
    updateButtons();
}

QString SettingsDialog::uniqueName(const QString &base) const
{
    QString name = base;
    for (int n = 2; m_store.find(name) || QFileInfo::exists(m_store.pathFor(name)); ++n)
        name = QStringLiteral("%1 %2").arg(base).arg(n);
    return name;
}

void SettingsDialog::newProfile()
{
    Profile profile;
    profile.name = uniqueName(tr("New profile"));
    m_currentPath.clear();
    m_list->clearSelection();
    m_form->setEnabled(true);
    m_form->setProfile(profile);
    m_dirty = true;
    m_status->setText(tr("New profile: fill in the proxy URL, then save."));
    updateButtons();
}

void SettingsDialog::duplicateProfile()
{
    Result<Profile> current = m_form->profile();
    Profile copy = current ? *current : Profile{};
    copy.name = uniqueName(copy.name);
    m_currentPath.clear();
    m_list->clearSelection();
    m_form->setProfile(copy);
    m_dirty = true;
    updateButtons();
}

void SettingsDialog::deleteProfile()
{
    if (m_currentPath.isEmpty())
        return;
    const auto answer = QMessageBox::question(
        this, tr("Delete profile"), tr("Delete %1?").arg(QDir::toNativeSeparators(m_currentPath)));
    if (answer != QMessageBox::Yes)
        return;
    m_store.remove(m_currentPath);
    m_currentPath.clear();
    reload({});
    Q_EMIT profilesChanged({});
}

bool SettingsDialog::save()
{
    if (!m_form->validate()) {
        m_status->setText(tr("Not saved: %1").arg(m_form->errorText()));
        return false;
    }
    const Profile profile = *m_form->profile();
    // Another file already holds a profile of that name: saving would overwrite it.
    for (const ProfileStore::Entry &entry : std::as_const(m_entries)) {
        if (entry.profile && entry.profile->name == profile.name && entry.path != m_currentPath) {
            m_status->setText(tr("Not saved: name: a profile named '%1' exists already (%2)")
                                  .arg(profile.name, QDir::toNativeSeparators(entry.path)));
            return false;
        }
    }
    // Two names can map to one file name ("Work VPN", "Work-VPN"): never overwrite another file.
    const QString target = m_store.pathFor(profile.name);
    if (QFileInfo::exists(target) &&
        QFileInfo(target).absoluteFilePath() != QFileInfo(m_currentPath).absoluteFilePath()) {
        m_status->setText(tr("Not saved: name: %1 belongs to another profile")
                              .arg(QDir::toNativeSeparators(target)));
        return false;
    }
    if (auto saved = m_store.save(profile, m_currentPath); !saved) {
        m_status->setText(tr("Not saved: %1").arg(saved.error().detail));
        return false;
    }
    m_currentPath = m_store.pathFor(profile.name);
    m_dirty = false;
    reload(profile.name);
    m_status->setText(tr("Saved to %1").arg(QDir::toNativeSeparators(m_currentPath)));
    Q_EMIT profilesChanged(profile.name);
    return true;
}

void SettingsDialog::updateButtons()
{
    m_save->setEnabled(m_form->isEnabled() && m_form->isValid() && m_dirty);
    m_delete->setEnabled(!m_currentPath.isEmpty());
    m_duplicate->setEnabled(m_form->isEnabled() && m_form->isValid());
}

} // namespace qmasque::ui
