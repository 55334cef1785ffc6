#pragma once

#include <QtWidgets/QWidget>

class QLabel;
class QLineEdit;
class QSettings;
class QSortFilterProxyModel;
class QTableView;

namespace qmasque::ui {

class ClosedTunnelModel;

// ClosedPanel: the "Closed" tab: the last closed tunnels (bounded by ClosedTunnelModel), newest
// first, with close reason, duration and bytes, a text filter over every column, and "Copy as
// JSON". The model is not owned. GUI thread only.
class ClosedPanel final : public QWidget
{
    Q_OBJECT

public:
    explicit ClosedPanel(ClosedTunnelModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_filter; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }

    void saveLayout(QSettings &settings) const;
    void restoreLayout(const QSettings &settings);

private:
    void updateTitle();
    void copySelectionAsJson();

    ClosedTunnelModel *m_model;     // not owned
    QSortFilterProxyModel *m_proxy; // child
    QTableView *m_view;             // child
    QLineEdit *m_filter;            // child
    QLabel *m_title;                // child
};

} // namespace qmasque::ui
