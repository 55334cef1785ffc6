// The profile editor: an invalid field shows Profile::validate()'s message (which names the key)
// right under that field and blocks Save; a valid profile saves to its JSON file and loads back
// equal; renames move the file; duplicate names and unloadable files are handled; the main
// window's selector follows the directory.

#include "support/FakeEngine.h"
#include "ui/MainWindow.h"
#include "ui/ProfileForm.h"
#include "ui/ProfileStore.h"
#include "ui/SettingsDialog.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QListWidget>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QTabWidget>

using namespace qmasque;
using namespace qmasque::ui;

namespace {

Profile profile(const char *json)
{
    return *Profile::fromJson(QJsonDocument::fromJson(json).object());
}

QLineEdit *line(ProfileForm *form, const char *key)
{
    return qobject_cast<QLineEdit *>(form->editor(QLatin1StringView(key)));
}

QPlainTextEdit *list(ProfileForm *form, const char *key)
{
    return qobject_cast<QPlainTextEdit *>(form->editor(QLatin1StringView(key)));
}

// visibleErrors: the keys whose error line is shown.
QStringList visibleErrors(ProfileForm *form)
{
    QStringList keys;
    const QList<QLabel *> labels = form->findChildren<QLabel *>();
    for (QLabel *label : labels) {
        if (label->objectName().startsWith(QStringLiteral("error-")) && !label->isHidden())
            keys << label->objectName().mid(6);
    }
    return keys;
}

} // namespace

class TestSettingsDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void invalidFieldShowsTheMessageNextToIt();
    void everyListedKeyHasItsField();
    void validProfileSavesAndLoadsBack();
    void renameMovesTheFile();
    void duplicateNamesAreRefused();
    void brokenFilesAreListedWithTheirError();
    void selectorFollowsSavedProfiles();
};

void TestSettingsDialog::invalidFieldShowsTheMessageNextToIt()
{
    QTemporaryDir dir;
    SettingsDialog dialog(dir.path());
    ProfileForm *form = dialog.form();
    dialog.show();
    // A new profile starts without a proxy: the message names "proxy".
    QVERIFY(!form->isValid());
    QCOMPARE(form->errorKey(), QStringLiteral("proxy"));
    QVERIFY(!dialog.saveButton()->isEnabled());

    line(form, "proxy")->setText(QStringLiteral("http://proxy.example"));
    QCOMPARE(visibleErrors(form), QStringList{QStringLiteral("proxy")});
    QLabel *proxyError = form->errorLabel(QStringLiteral("proxy"));
    QVERIFY(proxyError->text().startsWith(QStringLiteral("proxy: ")));
    QVERIFY(proxyError->text().contains(QStringLiteral("https://HOST[:PORT]")));
    // The label sits in the same form row as the field, right under it.
    QCOMPARE(proxyError->parentWidget(), form->editor(QStringLiteral("proxy"))->parentWidget());
    QVERIFY(proxyError->geometry().top() >=
            form->editor(QStringLiteral("proxy"))->geometry().bottom());
    QVERIFY(!form->pages()->tabIcon(0).isNull()); // the page is marked
    QVERIFY(!dialog.saveButton()->isEnabled());

    // Fixing it clears the message; the next problem is named where it is.
    line(form, "proxy")->setText(QStringLiteral("https://proxy.example:8443"));
    QVERIFY(form->isValid());
    QVERIFY(visibleErrors(form).isEmpty());
    QVERIFY(form->pages()->tabIcon(0).isNull());
    QVERIFY(dialog.saveButton()->isEnabled());

    list(form, "udp-forward")->setPlainText(QStringLiteral("5353=dns.google:53\nnot a forward"));
    QCOMPARE(visibleErrors(form), QStringList{QStringLiteral("udp-forward")});
    QVERIFY(form->errorLabel(QStringLiteral("udp-forward"))
                ->text()
                .startsWith(QStringLiteral("udp-forward: ")));
    QVERIFY(!form->pages()->tabIcon(3).isNull()); // the Listeners page
    QVERIFY(form->pages()->tabIcon(0).isNull());
    list(form, "udp-forward")->setPlainText(QStringLiteral("5353=dns.google:53"));
    QVERIFY(form->isValid());

    // A certificate without its key: the message sits under the field that was filled in.
    line(form, "client-cert")->setText(QStringLiteral("/nonexistent/cert.pem"));
    QCOMPARE(form->errorKey(), QStringLiteral("client-cert"));
    QCOMPARE(visibleErrors(form), QStringList{QStringLiteral("client-cert")});
    QVERIFY(form->errorLabel(QStringLiteral("client-cert"))
                ->text()
                .contains(QStringLiteral("client-cert and client-key go together")));
    line(form, "client-cert")->clear();

    qobject_cast<QSpinBox *>(form->editor(QStringLiteral("connect-timeout-ms")))->setValue(50);
    QCOMPARE(visibleErrors(form), QStringList{QStringLiteral("connect-timeout-ms")});
    QVERIFY(!dialog.saveButton()->isEnabled());
    QVERIFY(!dialog.save());
    QVERIFY(dialog.statusLabel()->text().contains(QStringLiteral("connect-timeout-ms")));
    QVERIFY(QDir(dir.path()).entryList({QStringLiteral("*.json")}).isEmpty()); // nothing written
}

void TestSettingsDialog::everyListedKeyHasItsField()
{
    // Every key validate() can name has a field to show its message under.
    ProfileForm form;
    const QJsonObject keys = Profile{}.toJson();
    for (auto it = keys.begin(); it != keys.end(); ++it) {
        QVERIFY2(form.editor(it.key()), qPrintable(it.key()));
        QVERIFY2(form.errorLabel(it.key()), qPrintable(it.key()));
    }
}

void TestSettingsDialog::validProfileSavesAndLoadsBack()
{
    QTemporaryDir dir;
    SettingsDialog dialog(dir.path());
    QSignalSpy changed(&dialog, &SettingsDialog::profilesChanged);
    ProfileForm *form = dialog.form();
    line(form, "name")->setText(QStringLiteral("Office VPN"));
    line(form, "proxy")->setText(QStringLiteral("https://masque.example.org"));
    list(form, "pin-sha256")
        ->setPlainText(QStringLiteral("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="));
    line(form, "proxy-auth")->setText(QStringLiteral("basic:alice:secret"));
    list(form, "header")->setPlainText(QStringLiteral("x-team: blue"));
    line(form, "socks")->setText(QStringLiteral("127.0.0.1:1080"));
    list(form, "tcp-forward")->setPlainText(QStringLiteral("2222=git.example.org:22"));
    qobject_cast<QComboBox *>(form->editor(QStringLiteral("tcp-mode")))->setCurrentIndex(1);
    qobject_cast<QSpinBox *>(form->editor(QStringLiteral("pool-idle-ms")))->setValue(60000);
    // Transports: h2 first, h1 off.
    auto *transports = qobject_cast<QListWidget *>(form->editor(QStringLiteral("transports")));
    transports->insertItem(0, transports->takeItem(1));
    transports->item(2)->setCheckState(Qt::Unchecked);
    QVERIFY(form->isValid());
    QVERIFY(dialog.saveButton()->isEnabled());
    QTest::mouseClick(dialog.saveButton(), Qt::LeftButton);

    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toString(), QStringLiteral("Office VPN"));
    const QString path = QDir(dir.path()).filePath(QStringLiteral("Office-VPN.json"));
    QVERIFY(QFile::exists(path));
    const Result<Profile> loaded = Profile::load(path);
    QVERIFY(loaded);
    QCOMPARE(*loaded, *form->profile());
    QCOMPARE(loaded->transports, (QList<TransportKind>{TransportKind::H2, TransportKind::H3}));
    QCOMPARE(loaded->tcpMode, TcpMode::Template);
    QCOMPARE(loaded->poolIdleMs, 60000);
    QCOMPARE(loaded->tcpForwards.size(), 1);
    QCOMPARE(loaded->tcpForwards.first().target.host, QStringLiteral("git.example.org"));
    QVERIFY(!dialog.saveButton()->isEnabled()); // saved: nothing to save
    QCOMPARE(dialog.profileList()->count(), 1);
    QCOMPARE(dialog.profileList()->currentItem()->text(), QStringLiteral("Office VPN"));
}

void TestSettingsDialog::renameMovesTheFile()
{
    QTemporaryDir dir;
    const ProfileStore store(dir.path());
    QVERIFY(store.save(profile("{\"name\": \"old\", \"proxy\": \"https://a.example\"}")));
    SettingsDialog dialog(dir.path());
    QCOMPARE(line(dialog.form(), "name")->text(), QStringLiteral("old"));
    line(dialog.form(), "name")->setText(QStringLiteral("new"));
    QVERIFY(dialog.save());
    QVERIFY(!QFile::exists(store.pathFor(QStringLiteral("old"))));
    QVERIFY(QFile::exists(store.pathFor(QStringLiteral("new"))));
    QCOMPARE(store.profiles().size(), 1);
}

void TestSettingsDialog::duplicateNamesAreRefused()
{
    QTemporaryDir dir;
    const ProfileStore store(dir.path());
    QVERIFY(store.save(profile("{\"name\": \"a\", \"proxy\": \"https://a.example\"}")));
    QVERIFY(store.save(profile("{\"name\": \"b\", \"proxy\": \"https://b.example\"}")));
    SettingsDialog dialog(dir.path());
    dialog.selectProfile(QStringLiteral("b"));
    line(dialog.form(), "name")->setText(QStringLiteral("a"));
    QVERIFY(!dialog.save());
    QVERIFY(dialog.statusLabel()->text().contains(QStringLiteral("exists already")));
    QCOMPARE(store.find(QStringLiteral("a"))->proxy, QStringLiteral("https://a.example"));

    // A different name that maps to the same file name is refused as well.
    QVERIFY(store.save(profile("{\"name\": \"Work VPN\", \"proxy\": \"https://w.example\"}")));
    dialog.selectProfile(QStringLiteral("b"));
    line(dialog.form(), "name")->setText(QStringLiteral("Work-VPN"));
    QVERIFY(!dialog.save());
    QVERIFY(dialog.statusLabel()->text().contains(QStringLiteral("belongs to another profile")));
    QCOMPARE(store.find(QStringLiteral("Work VPN"))->proxy, QStringLiteral("https://w.example"));
}

void TestSettingsDialog::brokenFilesAreListedWithTheirError()
{
    QTemporaryDir dir;
    QFile broken(QDir(dir.path()).filePath(QStringLiteral("broken.json")));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("{\"proxy\": 42}");
    broken.close();
    SettingsDialog dialog(dir.path());
    QCOMPARE(dialog.profileList()->count(), 1);
    QVERIFY(dialog.profileList()->item(0)->text().contains(QStringLiteral("does not load")));
    QVERIFY(dialog.profileList()->item(0)->toolTip().startsWith(QStringLiteral("proxy: ")));
    QVERIFY(!dialog.form()->isEnabled());
    QVERIFY(ProfileStore(dir.path()).profiles().isEmpty());
}

void TestSettingsDialog::selectorFollowsSavedProfiles()
{
    QTemporaryDir dir;
    qmasque::test::FakeEngine engine;
    MainWindowOptions options;
    options.profileDirectory = dir.path();
    options.settingsPath = dir.filePath(QStringLiteral("settings.ini"));
    options.tray = MainWindowOptions::Tray::Disabled;
    options.quitApplication = false;
    MainWindow window(&engine, options);
    QCOMPARE(window.profileSelector()->count(), 0);
    QVERIFY(!window.connectAction()->isEnabled()); // nothing to connect with yet

    window.openSettings();
    SettingsDialog *dialog = window.settingsDialog();
    QVERIFY(dialog);
    line(dialog->form(), "name")->setText(QStringLiteral("home"));
    line(dialog->form(), "proxy")->setText(QStringLiteral("https://home.example"));
    QVERIFY(dialog->save());
    QCOMPARE(window.profileSelector()->count(), 1);
    QCOMPARE(window.profileSelector()->currentText(), QStringLiteral("home"));
    QVERIFY(window.connectAction()->isEnabled());
    QCOMPARE(window.selectedProfile()->proxy, QStringLiteral("https://home.example"));
    dialog->close();
}

QTEST_MAIN(TestSettingsDialog)
#include "tst_settings_dialog.moc"
