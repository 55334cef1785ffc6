#pragma once

#include "api/Profile.h"

#include <QtCore/QHash>
#include <QtWidgets/QWidget>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QSpinBox;
class QTabWidget;

namespace qmasque::ui {

// ProfileForm: every field of a Profile, on pages (proxy, trust and authentication, templates,
// local listeners and forwards, pool, observability). Each field is registered under its JSON key
// ("proxy", "pin-sha256", "udp-forward"); validation runs on every edit (Profile::validate(), and
// the forward parsers) and its message, which starts with the key it names, is shown in red right
// under that field; the page holding it gets a warning mark. GUI thread only.
class ProfileForm final : public QWidget
{
    Q_OBJECT

public:
    explicit ProfileForm(QWidget *parent = nullptr);

    void setProfile(const Profile &profile);
    // profile: the form's values; an error (naming the key) when a list field does not parse or
    // the profile does not validate.
    Result<Profile> profile() const;

    // validate: checks the form now and shows the message next to its field. True when valid.
    bool validate();
    bool isValid() const { return m_valid; }
    // errorKey / errorText: the field the current message names, and the message ("" when valid).
    QString errorKey() const { return m_errorKey; }
    QString errorText() const { return m_errorText; }

    // editor / errorLabel: the widgets of a key (tests and focus); nullptr when unknown.
    QWidget *editor(const QString &key) const;
    QLabel *errorLabel(const QString &key) const;
    QTabWidget *pages() const { return m_pages; }

Q_SIGNALS:
    // edited: a field changed (the form re-validated already).
    void edited();

protected:
    void changeEvent(QEvent *event) override;

private:
    struct Field
    {
        QWidget *editor = nullptr;
        QLabel *error = nullptr;
        int page = 0;
    };

    QFormLayout *addPage(const QString &title);
    void addField(QFormLayout *form, const QString &key, const QString &label, QWidget *editor,
                  const QString &help = {});
    QLineEdit *lineEdit(const QString &key, const QString &placeholder = {});
    QPlainTextEdit *listEdit(const QString &key, const QString &placeholder);
    QSpinBox *spinBox(const QString &key, const QString &suffix);
    QWidget *fileRow(QLineEdit *edit, const QString &title);
    void showError(const QString &key, const QString &message);
    // applyColours: error lines in the error colour, help lines muted, for the current palette.
    void applyColours();
    void handleEdited();

    QTabWidget *m_pages; // child
    QHash<QString, Field> m_fields;
    QHash<QString, QWidget *> m_editors; // key -> the widget holding the value
    QList<QLabel *> m_hints;             // children: the help lines
    QLabel *m_generalError;              // child: a message naming no known field
    QListWidget *m_transports;           // child
    QCheckBox *m_insecure;               // child
    QCheckBox *m_demo;                   // child
    QComboBox *m_tcpMode;                // child
    QComboBox *m_logLevel;               // child
    bool m_loading = false;
    bool m_valid = false;
    QString m_errorKey;
    QString m_errorText;
};

} // namespace qmasque::ui
