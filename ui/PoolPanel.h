#pragma once

#include "ui/StreamModel.h"

#include <QtWidgets/QWidget>

#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QMenu;
class QPushButton;
class QSettings;
class QSortFilterProxyModel;
class QTableView;

namespace qmasque::ui {

class DashboardController;
class StreamFilterProxy;

// PoolPanel: the live pool: the upstream connections table on top and, below it, the streams of
// the selected connections (every stream when none is selected), with the filter box (text,
// protocol, state) and "close filtered". Context menus and the Delete key close streams or
// connections; "Copy as JSON" copies the selected rows in the snapshot JSON form. Commands go
// through the DashboardController (not owned). GUI thread only.
class PoolPanel final : public QWidget
{
    Q_OBJECT

public:
    explicit PoolPanel(DashboardController *controller, QWidget *parent = nullptr);

    QTableView *connectionsView() const { return m_connectionsView; }
    QTableView *streamsView() const { return m_streamsView; }
    QSortFilterProxyModel *connectionProxy() const { return m_connectionProxy; }
    StreamFilterProxy *streamProxy() const { return m_streamProxy; }
    QLineEdit *filterEdit() const { return m_filterText; }
    QComboBox *protocolFilter() const { return m_protocolFilter; }
    QComboBox *stateFilter() const { return m_stateFilter; }
    QPushButton *closeFilteredButton() const { return m_closeFiltered; }

    QList<quint64> selectedConnections() const;
    QList<StreamKey> selectedStreams() const;

    // The actions, also offered by the context menus.
    void closeSelectedStreams();
    void closeSelectedConnections();
    void closeFiltered();
    // selectionJson: the selected rows of the streams table (when it has the focus or a
    // selection) or else of the connections table, as indented JSON: one object, or an array.
    QByteArray selectionJson() const;
    void copySelectionAsJson();

    void saveLayout(QSettings &settings) const;
    void restoreLayout(const QSettings &settings);
    void refreshIcons();

Q_SIGNALS:
    // connectionFocused: the connection the charts follow (the current row), with a label.
    void connectionFocused(std::optional<quint64> connectionId, const QString &label);

private:
    void handleConnectionSelection();
    void updateStreamHeader();
    void showConnectionMenu(const QPoint &pos);
    void showStreamMenu(const QPoint &pos);
    QByteArray streamsJson(const QList<StreamKey> &keys) const;
    QByteArray connectionsJson(const QList<quint64> &ids) const;

    DashboardController *m_controller;        // not owned
    QTableView *m_connectionsView;            // child
    QTableView *m_streamsView;                // child
    QSortFilterProxyModel *m_connectionProxy; // child
    StreamFilterProxy *m_streamProxy;         // child
    QLineEdit *m_filterText;                  // child
    QComboBox *m_protocolFilter;              // child
    QComboBox *m_stateFilter;                 // child
    QPushButton *m_closeFiltered;             // child
    QLabel *m_streamsTitle;                   // child
    QLabel *m_connectionsTitle;               // child
};

} // namespace qmasque::ui
