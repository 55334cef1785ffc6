#pragma once

#include <QtWidgets/QWidget>

class QComboBox;
class QLineEdit;
class QSettings;
class QTableView;

namespace qmasque::ui {

class LogFilterProxy;
class LogModel;

// LogPanel: the engine's log lines (LogModel, bounded) with a minimum level and a search box.
// Follows the newest line while the view is scrolled to the bottom. The model is not owned.
// GUI thread only.
class LogPanel final : public QWidget
{
    Q_OBJECT

public:
    explicit LogPanel(LogModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    QComboBox *levelFilter() const { return m_level; }
    QLineEdit *searchEdit() const { return m_search; }
    LogFilterProxy *proxy() const { return m_proxy; }

    void saveLayout(QSettings &settings) const;
    void restoreLayout(const QSettings &settings);

private:
    LogFilterProxy *m_proxy; // child
    QTableView *m_view;      // child
    QComboBox *m_level;      // child
    QLineEdit *m_search;     // child
    bool m_follow = true;
};

} // namespace qmasque::ui
